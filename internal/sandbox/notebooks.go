package sandbox

import (
	"cmp"
	"time"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/notebooks"
	"github.com/sagegate/sagegate/internal/sandbox/awssim"
)

// NotebookPath is where the simulated notebook instances are served:
// presigned notebook URLs land below it.
const NotebookPath = "/dev/notebooks"

// DefaultNotebookDelay is how long a demo notebook takes to start: long
// enough to watch the progress page go Stopped -> Pending -> InService,
// short enough not to bore anyone (AWS takes minutes).
const DefaultNotebookDelay = 8 * time.Second

// seedNotebooks creates, stopped, every notebook instance the dev routes
// name: the LOBs' shared ones and the users' own (user-lob-a has one),
// tagged like vended ones. Template notebooks are created by their first
// open, as in production.
func seedNotebooks(sim *awssim.Simulator, cfg *config.Config, delay time.Duration) {
	switch {
	case delay == 0:
		delay = DefaultNotebookDelay
	case delay < 0:
		delay = 0
	}
	sim.SetNotebookDelays(awssim.NotebookDelays{Start: delay, Stop: delay / 2, Update: delay / 2, Delete: delay / 2})
	routes := cfg.Routing.File
	for name, lob := range routes.LOBs {
		for _, nb := range lob.Notebooks {
			sim.AddNotebookInstance(awssim.NotebookInstance{Account: lob.AccountID, Region: cmp.Or(lob.Region, cfg.AWS.Region),
				Name: nb.Name, Tags: []awssim.Tag{{Key: notebooks.TagLOB, Value: name}}})
		}
	}
	for user, u := range routes.Users {
		for _, nb := range u.Notebooks {
			lob := routes.LOBs[nb.LOB]
			sim.AddNotebookInstance(awssim.NotebookInstance{Account: lob.AccountID, Region: cmp.Or(lob.Region, cfg.AWS.Region),
				Name: nb.Name, Tags: []awssim.Tag{{Key: notebooks.TagUser, Value: user}, {Key: notebooks.TagLOB, Value: nb.LOB}}})
		}
	}
}
