#!/usr/bin/env bash
# A Debian trixie root (Python 3.13) for testing against Blender 5.1's bpy
# (cp313-only wheels) on a host whose own Python is older.
#
#   scripts/py313_root.sh setup          # idempotent: build/refresh the root,
#                                        # print the venv's python path
#   scripts/py313_root.sh run CMD...     # run CMD inside the root, repo visible
#                                        # at the same path, venv first on PATH
#   scripts/py313_root.sh python ARGS... # = run python ARGS...
#   scripts/py313_root.sh shell          # interactive shell inside the root
#   scripts/py313_root.sh clean          # delete the root (cache is kept)
#
# e.g.  scripts/py313_root.sh run python -m pytest -q tests
#       scripts/py313_root.sh run python -m engine segment m.npz -o /tmp/o --quality fast
#
# Needs root (debootstrap, chroot, unshare --mount). Mounts live in a private
# mount namespace per command, so nothing stays mounted on the host afterwards.
#
# Environment:
#   PY313_ROOT    root folder              (default /opt/partsdf-py313)
#   PY313_CACHE   .deb and wheel cache     (default /opt/partsdf-cache); a rerun
#                 or a rebuild after `clean` then needs no downloads for wheels
#   PY313_MIRROR  Debian mirror            (default http://deb.debian.org/debian)
#   PY313_BPY     bpy version              (default 5.1.2, the last 5.1.x on PyPI)
#   PY313_TORCH   subset | full | none     (default subset: torch 2.13.0 from
#                 PyPI plus only the nvidia-* wheels it needs to import on CPU,
#                 ~2.2 GB of downloads instead of ~2.6 GB)
#   PY313_EXTRA   extra pip requirements, space separated (default: pytest)
set -euo pipefail

ROOT=${PY313_ROOT:-/opt/partsdf-py313}
CACHE=${PY313_CACHE:-/opt/partsdf-cache}
MIRROR=${PY313_MIRROR:-http://deb.debian.org/debian}
BPY=${PY313_BPY:-5.1.2}
TORCH=${PY313_TORCH:-subset}
EXTRA=${PY313_EXTRA:-pytest}
VENV=/opt/venv                     # path inside the root
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Shared libraries bpy 5.1 links against that a minbase root lacks.
BPY_DEBS="libx11-6 libxext6 libxfixes3 libxi6 libxrender1 libxt6t64 libsm6
  libice6 libgl1 libglx0 libopengl0 libxkbcommon0 libegl1"

# torch 2.13.0 (cu130 build) on CPU: these nvidia wheels are NEEDED by
# libtorch_cpu/libtorch_cuda/libtorch_python at import time; cusolver,
# nvtx, triton, cuda-bindings, cuda-pathfinder and cuda-toolkit are not.
TORCH_PY_DEPS="filelock typing-extensions>=4.10.0 setuptools>=77.0.3
  sympy>=1.13.3 networkx>=2.5.1 jinja2 fsspec>=0.8.5"
TORCH_NVIDIA="nvidia-cublas==13.1.1.3 nvidia-cuda-cupti==13.0.85
  nvidia-cuda-nvrtc==13.0.88 nvidia-cuda-runtime==13.0.96
  nvidia-cufft==12.0.0.61 nvidia-cufile==1.15.1.6 nvidia-curand==10.4.0.35
  nvidia-cusparse==12.6.3.3 nvidia-nvjitlink==13.5.37
  nvidia-cudnn-cu13==9.20.0.48 nvidia-cusparselt-cu13==0.8.1
  nvidia-nccl-cu13==2.29.7 nvidia-nvshmem-cu13==3.4.5"

q() { local w; for w in "$@"; do printf "'%s' " "$w"; done; }  # shell-quote
log() { printf '[py313_root] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap/chroot/mount)"

# Run "$@" inside the root, in a private mount namespace that sees /proc,
# /dev, the cache and the repository (same absolute path as on the host).
in_root() {
  local cwd=${IN_ROOT_CWD:-/}
  local envs=(HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}"
    PATH="$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180
    DEBIAN_FRONTEND=noninteractive)
  local v
  for v in $(compgen -e); do
    case $v in PARTSDF_*|PYTHONDONTWRITEBYTECODE|PYTHONUNBUFFERED|PYTHONFAULTHANDLER|OMP_NUM_THREADS|MKL_NUM_THREADS|CUDA_VISIBLE_DEVICES|BLENDER_*|PYTEST_*)
      envs+=("$v=${!v}");; esac
  done
  mkdir -p "$ROOT$REPO" "$ROOT$CACHE" "$ROOT/proc" "$ROOT/dev" "$ROOT/sys"
  unshare --mount --propagation private /bin/sh -ec '
    r=$1; repo=$2; cache=$3; cwd=$4; shift 4
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mount --rbind /sys "$r/sys"
    mount --bind "$repo" "$r$repo"
    mount --bind "$cache" "$r$cache"
    exec chroot "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
  ' sh "$ROOT" "$REPO" "$CACHE" "$cwd" /usr/bin/env -i "${envs[@]}" "$@"
}

setup() {
  mkdir -p "$CACHE/debs" "$CACHE/apt" "$CACHE/wheels"
  if [ ! -x "$ROOT/usr/bin/python3.13" ]; then
    command -v debootstrap >/dev/null ||
      { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    [ -e "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ] &&
      die "$ROOT exists but has no python3.13; remove it (scripts/py313_root.sh clean)"
    log "debootstrap trixie -> $ROOT"
    debootstrap --variant=minbase --cache-dir="$CACHE/debs" \
      --include=python3,python3-venv,python3-pip,ca-certificates \
      trixie "$ROOT" "$MIRROR" >&2
  fi
  # Host CAs (TLS-intercepting proxies), pip config without the host's
  # cp311-only find-links/constraints, /etc/mtab (Blender asks for mounts).
  if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  fi
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 || true
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\ntimeout = 180\n' \
    > "$ROOT/etc/pip.conf"
  [ -e "$ROOT/etc/mtab" ] || [ -L "$ROOT/etc/mtab" ] || ln -s ../proc/self/mounts "$ROOT/etc/mtab"

  if [ "$(cat "$ROOT/.partsdf-debs-ok" 2>/dev/null)" != "$(echo $BPY_DEBS)" ]; then
    log "apt: bpy system libraries"
    in_root sh -ec "apt-get update -qq
      apt-get install -y -qq --no-install-recommends -o Dir::Cache::archives=$CACHE/apt $(echo $BPY_DEBS) >/dev/null"
    echo $BPY_DEBS > "$ROOT/.partsdf-debs-ok"
  fi

  [ -x "$ROOT$VENV/bin/python" ] || in_root python3 -m venv "$VENV"

  # Requirements: the repo's, with torch handled separately (no-deps).
  local reqs
  reqs=$(grep -vE '^\s*(#|$)|^torch' "$REPO/requirements.txt" | tr '\n' ' ')
  local pkgs="bpy==$BPY $reqs $EXTRA"
  case $TORCH in
    subset|full|none) ;;
    *) die "PY313_TORCH must be subset, full or none";;
  esac
  pkgs=$(q $pkgs)
  local tnv tpy; tnv=$(q $TORCH_NVIDIA); tpy=$(q $TORCH_PY_DEPS)
  local pipi="pip install -q --no-index --find-links $CACHE/wheels"
  local pipd="pip download -q -d $CACHE/wheels"
  local torchwhl="torch==2.13.0"
  log "pip: $pkgs (+ torch: $TORCH)"
  # Offline from the cache first; download into the cache when that fails.
  in_root sh -ec "
    $pipi $pkgs 2>/dev/null || { $pipd $pkgs && $pipi $pkgs; }
    case $TORCH in
      subset)
        { $pipi --no-deps $torchwhl $tnv && $pipi $tpy; } 2>/dev/null || {
          $pipd --no-deps $torchwhl $tnv && $pipd $tpy &&
          $pipi --no-deps $torchwhl $tnv && $pipi $tpy; } ;;
      full)
        $pipi $torchwhl 2>/dev/null || { $pipd $torchwhl && $pipi $torchwhl; } ;;
    esac"
  log "check"
  in_root python -c "import bpy; print('bpy', bpy.app.version_string)" >&2
  [ "$TORCH" = none ] ||
    in_root python -c "import torch; print('torch', torch.__version__, torch.zeros(3).sum().item())" >&2
  echo "$ROOT$VENV/bin/python"
}

cmd=${1:-setup}; shift || true
case $cmd in
  setup) setup ;;
  run|python|shell)
    [ -x "$ROOT$VENV/bin/python" ] || die "no root at $ROOT; run: $0 setup"
    here=$(pwd -P)
    case $here in "$REPO"|"$REPO"/*) cwd=$here;; *) cwd=$REPO;; esac
    case $cmd in
      python) set -- python "$@";;
      shell) set -- /bin/bash;;
    esac
    [ $# -gt 0 ] || die "usage: $0 run CMD [ARGS...]"
    IN_ROOT_CWD=$cwd in_root "$@" ;;
  clean)
    # Never rm -rf through a live bind mount of the repository or the cache.
    if grep -q " $ROOT[/ ]" /proc/mounts; then
      die "something is mounted under $ROOT; unmount it first"
    fi
    rm -rf --one-file-system "$ROOT"; log "removed $ROOT" ;;
  *) die "unknown command $cmd (setup|run|python|shell|clean)" ;;
esac
