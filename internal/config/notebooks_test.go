package config

import (
	"testing"
	"time"
)

func TestNotebooksDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notebooks
	if n.WaitTimeout.D() != 15*time.Minute || n.PollInterval.D() != 5*time.Second || n.Reaper.Idle.D() != 2*time.Hour || n.SSM.Publish || n.Reaper.Apply {
		t.Errorf("defaults = %+v", n)
	}
	c, err = Parse([]byte(minimal+`
notebooks:
  waitTimeout: 5m
  pollInterval: 2s
  adminGroups: [platform]
  ssm: {publish: true, kmsKeyId: "alias/notebook-urls"}
  reaper: {idle: 90m, apply: true}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Notebooks; n.WaitTimeout.D() != 5*time.Minute || n.AdminGroups[0] != "platform" || !n.SSM.Publish || n.Reaper.Idle.D() != 90*time.Minute || !n.Reaper.Apply {
		t.Errorf("parsed = %+v", n)
	}
}

func TestNotebooksValidation(t *testing.T) {
	_, err := Parse([]byte(minimal+`
notebooks:
  unknown: 1
`), env(nil))
	wantProblems(t, problems(t, err), "notebooks.unknown: unknown key")
	_, err = Parse([]byte(minimal+`
notebooks:
  waitTimeout: 2h
  pollInterval: 10ms
  adminGroups: [""]
  ssm: {kmsKeyId: "alias/bad key"}
  reaper: {idle: 10s}
`), env(nil))
	wantProblems(t, problems(t, err),
		"notebooks.waitTimeout: must be between 10s and 1h",
		"notebooks.pollInterval: must be between 100ms and 1m",
		"notebooks.adminGroups: entry 0 is empty",
		"notebooks.ssm.kmsKeyId: must be a KMS key id",
		"notebooks.reaper.idle: must be between 1m and 720h")
}
