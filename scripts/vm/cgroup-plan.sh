# The cgroup end-to-end tests, as scripts/vm/guest.sh runs them on each
# layout (sourced there: `check`, `drop_controller` and $layout are its).
# CH02_E2E and MINI_DOCKER_E2E_CGROUPS are the test binaries cargo built,
# named in the env file that cgroup-tests.sh writes.

# The docker CLI (a client of mini-dockerd in the pause test) may live in
# /usr/local/bin, which the guest's PATH does not have.
export PATH="$PATH:/usr/local/bin"

# One at a time: the CPU quota test measures time, and the guest is emulated.
tests() { CI=true "$@" --test-threads=1 --color never; }

check "chapter 2 demo: limits, OOM, pids, CPU quota, the view, the freezer, removal" \
  tests "$CH02_E2E"
check "mini-docker: OOM 137 with OOMKilled, pids, limits, rm, the view from inside (--cgroupns, --privileged, exec), pause/unpause (also by the docker CLI), commit --pause" \
  tests "$MINI_DOCKER_E2E_CGROUPS"

# Bad input: a layout without the pids controller (and, on v1, the freezer).
drop_controller pids
check "chapter 2 demo without pids" tests "$CH02_E2E" --ignored without_the_pids
check "mini-docker without pids" tests "$MINI_DOCKER_E2E_CGROUPS" --ignored without_the_pids
if [ "$layout" = v1 ]; then
  drop_controller freezer
  check "chapter 2 demo without the freezer" tests "$CH02_E2E" --ignored without_the_v1_freezer
  check "mini-docker without the freezer" tests "$MINI_DOCKER_E2E_CGROUPS" --ignored without_the_v1_freezer
fi
