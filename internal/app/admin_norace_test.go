//go:build !race

package app

import "time"

// panelEnforceWithin is how long the end-to-end test waits for a change
// made in the panel to be enforced: the second the product promises.
const panelEnforceWithin = time.Second
