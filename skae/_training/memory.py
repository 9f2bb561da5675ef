"""How much memory this process may still use, by the limits the system
states: physical memory, the address-space limit, a memory cgroup."""

# License: BSD-3-Clause

import os


def memory_available():
    """``(bytes, whose limit)``: the least memory left to this process by the
    limits the system states, or ``(None, None)`` where it states none."""
    limits = []
    physical = _physical_memory()
    if physical is not None:
        limits.append((physical, "this machine has"))
    address_space = _address_space_left()
    if address_space is not None:
        limits.append(
            (address_space, "this process's address-space limit (RLIMIT_AS) leaves")
        )
    cgroup = _cgroup_memory_left()
    if cgroup is not None:
        limits.append((cgroup, "this process's memory cgroup (its container) leaves"))
    if not limits:
        return None, None
    left, where = min(limits, key=lambda limit: limit[0])
    return max(left, 0), where


def _address_space_left():
    """Bytes ``RLIMIT_AS`` leaves above the address space in use, or None."""
    try:
        import resource  # POSIX only
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:  # the virtual size in pages, the first field of statm
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return soft - used


# (limit, usage) files of a memory cgroup: v2, then v1
_CGROUP_FILES = (
    ("memory.max", "memory.current"),
    ("memory.limit_in_bytes", "memory.usage_in_bytes"),
)


def _cgroup_memory_left(root="/sys/fs/cgroup", membership="/proc/self/cgroup"):
    """Bytes the memory cgroups of this process leave (the least over the
    cgroup and the mount's root, v2 or v1), or None where none is limited.

    Inside a container the cgroup's path may name the host's hierarchy while
    the container mounts its own cgroup at the root: both are read.
    """
    paths = {""}
    try:
        with open(membership) as lines:
            for line in lines:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if controllers in ("", "memory") or "memory" in controllers.split(","):
                    paths.add(path.lstrip("/"))
    except (OSError, ValueError):
        pass
    left = None
    for base in (root, os.path.join(root, "memory"), os.path.join(root, "unified")):
        for path in paths:
            directory = os.path.join(base, path)
            for limit_file, usage_file in _CGROUP_FILES:
                limit = _read_bytes(os.path.join(directory, limit_file))
                if limit is None or limit >= 2**60:  # "max", or v1's no limit
                    continue
                usage = _read_bytes(os.path.join(directory, usage_file)) or 0
                left = limit - usage if left is None else min(left, limit - usage)
    return left


def _read_bytes(path):
    """The integer in a cgroup file, or None (absent, unreadable, "max")."""
    try:
        with open(path) as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _physical_memory():
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None
