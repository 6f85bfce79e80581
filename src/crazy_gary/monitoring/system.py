"""Host readings from psutil (sizes in MiB, as the contract's example reads)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psutil

MIB = 1024 * 1024


def host_metrics(data_dir: Path) -> dict[str, Any]:
    """CPU (since the previous call in this process), memory, disk of the data dir, network."""
    vm = psutil.virtual_memory()
    disk = psutil.disk_usage(str(data_dir))
    net = psutil.net_io_counters()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []
    return {
        "cpu": {"usage": psutil.cpu_percent(interval=None), "load_average": load,
                "cores": psutil.cpu_count()},
        "memory": {"used": round((vm.total - vm.available) / MIB), "total": round(vm.total / MIB),
                   "usage_percent": vm.percent},
        "disk": {"used": round(disk.used / MIB), "total": round(disk.total / MIB),
                 "usage_percent": disk.percent},
        "network": {"bytes_sent": net.bytes_sent, "bytes_received": net.bytes_recv,
                    "packets_sent": net.packets_sent, "packets_received": net.packets_recv},
    }
