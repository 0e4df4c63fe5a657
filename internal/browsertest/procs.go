package browsertest

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// processesUsing lists the processes that have a command-line argument
// naming a path under dir. Chromium passes --user-data-dir to every child
// process (zygote, renderers, GPU and network services), the crashpad
// handlers get --database under XDG_CONFIG_HOME, and each Browser has its
// own temp dir holding both, so this finds exactly one browser's processes.
func processesUsing(dir string) []int {
	want := []byte(dir + "/")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(cmdline, []byte{0}) {
			if bytes.Contains(arg, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// killProcessTree kills the processes of the browser whose temp dir is dir, looking
// again until a few passes in a row find none (a child can fork while its
// parent dies), and returns how many it killed.
func killProcessTree(dir string) int {
	const quietPasses, pause, limit = 3, 20 * time.Millisecond, 5 * time.Second
	killed := 0
	deadline := time.Now().Add(limit)
	for quiet := 0; quiet < quietPasses && time.Now().Before(deadline); time.Sleep(pause) {
		pids := processesUsing(dir)
		if len(pids) == 0 {
			quiet++
			continue
		}
		quiet = 0
		for _, pid := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	return killed
}
