package stacks

import (
	"encoding/base64"
	"fmt"
)

// jupyterLabLifecycle is the script JupyterLab apps run when they start. It
// must work without internet access (the subnets have none), so it only
// writes configuration: idle kernels are culled after the idle timeout,
// which the domain's idle shutdown then completes by stopping the app.
func jupyterLabLifecycle(idleMinutes int) string {
	script := fmt.Sprintf(`#!/bin/bash
# sagegate: JupyterLab defaults for a VPC-only domain. Runs offline.
set -euo pipefail
conf_dir="$HOME/.jupyter/jupyter_server_config.d"
mkdir -p "$conf_dir"
cat >"$conf_dir/sagegate.json" <<'JSON'
{
  "MappingKernelManager": {
    "cull_idle_timeout": %d,
    "cull_interval": 300,
    "cull_connected": true,
    "cull_busy": false
  }
}
JSON
`, idleMinutes*60)
	return base64.StdEncoding.EncodeToString([]byte(script))
}
