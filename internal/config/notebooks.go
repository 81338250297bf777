package config

import (
	"regexp"
	"time"
)

// Notebooks tunes notebook instance targets: starting a stopped instance
// on click, the refresh API, and stopping idle instances.
type Notebooks struct {
	// WaitTimeout bounds how long sagegate waits for an instance to be
	// InService after starting (or creating) it. Default 15m.
	WaitTimeout Duration `json:"waitTimeout,omitempty"`
	// PollInterval is the time between two DescribeNotebookInstance calls
	// while waiting. Default 5s.
	PollInterval Duration `json:"pollInterval,omitempty"`
	// AdminGroups are IdP groups whose members may open, refresh and stop
	// anyone's notebook (POST /refreshurl for another user, for example).
	AdminGroups []string `json:"adminGroups,omitempty"`
	// SSM publishes each URL that POST /refreshurl mints to Parameter
	// Store, for tools of the AWS sample that read it there.
	SSM NotebookSSM `json:"ssm,omitempty"`
	// Reaper stops InService notebooks nobody opened for a while.
	Reaper NotebookReaper `json:"reaper,omitempty"`
}

// NotebookSSM is the SSM publishing of POST /refreshurl.
type NotebookSSM struct {
	// Publish turns it on: the URL goes to /SageMaker/Notebooks/<user>-Notebook
	// in the notebook's account, as a SecureString.
	Publish bool `json:"publish,omitempty"`
	// KMSKeyID encrypts the parameter; empty means the account's AWS
	// managed key (alias/aws/ssm).
	KMSKeyID string `json:"kmsKeyId,omitempty"`
}

// NotebookReaper is the idle stop of `sagegate notebooks reap` and of the
// Lambda events role's schedule.
type NotebookReaper struct {
	// Idle is how long an InService notebook may go without being opened
	// through sagegate before it is stopped. Default 2h.
	Idle Duration `json:"idle,omitempty"`
	// Apply makes the scheduled reaper (Lambda) stop what it finds; off,
	// it only reports. The CLI decides with --apply.
	Apply bool `json:"apply,omitempty"`
}

// Notebook defaults.
const (
	DefaultNotebookWait = 15 * time.Minute
	DefaultNotebookPoll = 5 * time.Second
	DefaultNotebookIdle = 2 * time.Hour
)

func (n *Notebooks) applyDefaults() {
	if n.WaitTimeout == 0 {
		n.WaitTimeout = Duration(DefaultNotebookWait)
	}
	if n.PollInterval == 0 {
		n.PollInterval = Duration(DefaultNotebookPoll)
	}
	if n.Reaper.Idle == 0 {
		n.Reaper.Idle = Duration(DefaultNotebookIdle)
	}
}

var kmsKeyRE = regexp.MustCompile(`^[a-zA-Z0-9:/_-]+$`)

func (n Notebooks) validate(add func(path, format string, args ...any)) {
	if w := n.WaitTimeout.D(); w < 10*time.Second || w > time.Hour {
		add("notebooks.waitTimeout", "must be between 10s and 1h (a notebook instance usually starts in 2 to 5 minutes)")
	}
	if p := n.PollInterval.D(); p < 100*time.Millisecond || p > time.Minute || p >= n.WaitTimeout.D() {
		add("notebooks.pollInterval", "must be between 100ms and 1m, and shorter than waitTimeout")
	}
	for i, g := range n.AdminGroups {
		if g == "" {
			add("notebooks.adminGroups", "entry %d is empty", i)
		}
	}
	if k := n.SSM.KMSKeyID; k != "" && (len(k) > 2048 || !kmsKeyRE.MatchString(k)) {
		add("notebooks.ssm.kmsKeyId", "must be a KMS key id, ARN or alias, got %q", k)
	}
	if i := n.Reaper.Idle.D(); i < time.Minute || i > 30*24*time.Hour {
		add("notebooks.reaper.idle", "must be between 1m and 720h")
	}
}
