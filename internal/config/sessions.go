package config

import "time"

// Sessions are the lifetimes of form-login sessions (rules with the form
// scheme): `sessions: {idle: 24m, absolute: 12h}`.
type Sessions struct {
	// Idle ends a session not used for this long. Default 24m.
	Idle time.Duration `yaml:"idle"`
	// Absolute ends a session this long after sign-in, however used.
	// Default 12h.
	Absolute time.Duration `yaml:"absolute"`
}

// validate returns the problems of s.
func (s Sessions) validate() []string {
	var out []string
	if s.Idle < 0 {
		out = append(out, "sessions.idle: must not be negative")
	}
	if s.Absolute < 0 {
		out = append(out, "sessions.absolute: must not be negative")
	}
	if s.Idle > 0 && s.Absolute > 0 && s.Idle > s.Absolute {
		out = append(out, "sessions.idle: longer than sessions.absolute")
	}
	return out
}
