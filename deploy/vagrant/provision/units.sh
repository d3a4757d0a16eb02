#!/usr/bin/env bash
# units.sh NAME COMMAND...: writes and starts a systemd unit that runs
# COMMAND, restarted whenever it exits (every component recovers by
# itself, so systemd only has to bring the process back).
set -euo pipefail
name=$1; shift
cat > "/etc/systemd/system/minik8s-$name.service" <<UNIT
[Unit]
Description=minik8s $name
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$*
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now "minik8s-$name.service"
