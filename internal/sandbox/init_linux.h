// The constants the C sandbox init (init_linux.c) shares with the Go side; init_cgo_linux.go checks at test time
// that they equal the Go ones (initEnv, roleInit, planFD, statusFD, readyMarker, planMagic, maxPlanBytes,
// maxPlanList).
#ifndef SLUICE_SANDBOX_INIT_H
#define SLUICE_SANDBOX_INIT_H

#define SLUICE_INIT_ENV "_SLUICE_SANDBOX_INIT"
#define SLUICE_ROLE_INIT "init"
#define SLUICE_PLAN_FD 3
#define SLUICE_STATUS_FD 4
#define SLUICE_READY_MARKER 'R'
#define SLUICE_PLAN_MAGIC "SLUICEPLAN1"
#define SLUICE_MAX_PLAN_BYTES (1 << 20)
#define SLUICE_MAX_PLAN_LIST (1 << 16)

#endif
