// Package config holds htgate's YAML configuration schema with documented
// defaults, loads it strictly (unknown keys are errors) and validates it
// without side effects. It imports the standard library and the YAML
// decoder only.
package config
