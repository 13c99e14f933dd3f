//go:build race

package app

import "time"

// panelEnforceWithin is how long the end-to-end test waits for a change
// made in the panel to be enforced. The product promises a second; the
// race detector, with the other test binaries on two cores, slows the
// store watcher several times, so the test allows more and logs the time.
const panelEnforceWithin = 5 * time.Second
