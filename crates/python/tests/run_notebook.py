"""Execute a notebook top to bottom with nbclient; exit non-zero on any cell's error.

Usage: run_notebook.py NOTEBOOK WORKDIR [OUT]. The notebook runs with WORKDIR as its
current directory (so anything it writes lands there, the kernel's IPC sockets too) and is
not saved back; OUT, when given, receives the executed copy.
"""

from __future__ import annotations

import os
import sys

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient


def main() -> int:
    path, workdir = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else None
    nb = nbformat.read(path, as_version=4)
    # The kernel talks over IPC sockets in WORKDIR rather than TCP ports.
    os.chdir(workdir)
    km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(workdir, "kernel"))
    client = NotebookClient(
        nb, km=km, timeout=300, kernel_name="python3", resources={"metadata": {"path": workdir}}
    )
    client.execute()
    if out:
        nbformat.write(nb, out)
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"{path}: {cells} code cells executed without error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
