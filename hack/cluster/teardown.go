/*
Copyright 2026 The hubspot-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func ipList(ips ...net.IP) []net.IP { return ips }

// removeSandboxes stops and removes every Pod sandbox through the CRI, as
// the kubelet does when a Pod goes: containerd stops the containers and
// calls CNI DEL, which removes the veth, frees the address and drops the
// masquerade rule.
func removeSandboxes(sock string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rs := runtimeapi.NewRuntimeServiceClient(conn)
	list, err := rs.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range list.Items {
		if _, err := rs.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := rs.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func deleteBridge() error {
	if _, err := net.InterfaceByName(bridgeName); err != nil {
		return nil
	}
	out, err := exec.Command("ip", "link", "delete", bridgeName).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip link delete %s: %w: %s", bridgeName, err, out)
	}
	return nil
}

// unmountUnder unmounts everything mounted below dir (Secret volumes,
// overlay root filesystems, network namespaces), deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		if err := syscall.Unmount(p, 0); err != nil {
			_ = syscall.Unmount(p, syscall.MNT_DETACH)
		}
	}
}

// isClusterChain: the chains the kubelet and kube-proxy (KUBE-*) and the CNI
// plugins (CNI-*) create.
func isClusterChain(chain string) bool {
	return strings.HasPrefix(chain, "KUBE-") || strings.HasPrefix(chain, "CNI-")
}

// chainsIn splits the chains an `iptables -S` listing declares into the
// cluster's and the others.
func chainsIn(listing string) (cluster, others []string) {
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "-N" && f[0] != "-P") {
			continue
		}
		if isClusterChain(f[1]) {
			cluster = append(cluster, f[1])
		} else {
			others = append(others, f[1])
		}
	}
	return cluster, others
}

// iptablesTable is one table the kubelet, kube-proxy and the CNI plugins
// write, as `<bin> -t <table> -S` lists it now.
type iptablesTable struct{ bin, table, listing string }

// iptablesTables lists those tables, for IPv4 and IPv6 where the tool is
// installed; a table that cannot be listed is left out.
func iptablesTables() []iptablesTable {
	var tables []iptablesTable
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		for _, table := range []string{"filter", "nat", "mangle"} {
			if out, err := exec.Command(bin, "-w", "-t", table, "-S").Output(); err == nil {
				tables = append(tables, iptablesTable{bin, table, string(out)})
			}
		}
	}
	return tables
}

// clusterChainsOnHost names the cluster chains present now, as
// "iptables -t nat KUBE-SERVICES".
func clusterChainsOnHost() []string {
	var found []string
	for _, t := range iptablesTables() {
		cluster, _ := chainsIn(t.listing)
		for _, chain := range cluster {
			found = append(found, t.bin+" -t "+t.table+" "+chain)
		}
	}
	return found
}

// sweepChains removes the cluster chains and the rules that jump to them,
// after a run or in case a killed run left some. They can only be this
// tool's: a run refuses to start while others exist (see run). Rules are
// deleted by number: their comments hold quoted spaces.
func sweepChains() int {
	removed := 0
	for _, t := range iptablesTables() {
		mine, others := chainsIn(t.listing)
		for _, chain := range others {
			removed += deleteJumpsToClusterChains(t, chain)
		}
		for _, chain := range mine {
			_ = exec.Command(t.bin, "-w", "-t", t.table, "-F", chain).Run()
		}
		for _, chain := range mine {
			if exec.Command(t.bin, "-w", "-t", t.table, "-X", chain).Run() == nil {
				removed++
			}
		}
	}
	return removed
}

// deleteJumpsToClusterChains deletes chain's rules that jump to a cluster
// chain, last first so that the numbers still hold, and counts them.
func deleteJumpsToClusterChains(t iptablesTable, chain string) int {
	listing, err := exec.Command(t.bin, "-w", "-t", t.table, "-L", chain, "-n", "--line-numbers").Output()
	if err != nil {
		return 0
	}
	var numbers []string
	for _, line := range strings.Split(string(listing), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !isClusterChain(f[1]) {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err == nil {
			numbers = append(numbers, f[0])
		}
	}
	deleted := 0
	for i := len(numbers) - 1; i >= 0; i-- {
		if exec.Command(t.bin, "-w", "-t", t.table, "-D", chain, numbers[i]).Run() == nil {
			deleted++
		}
	}
	return deleted
}

// removeSandboxNetns removes the network namespaces containerd's CRI made
// for sandboxes (cni-*): those of a killed run outlive it, holding their
// veths. No other containerd runs on this machine.
func removeSandboxNetns() int {
	paths, _ := filepath.Glob("/run/netns/cni-*")
	for _, p := range paths {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
		_ = os.Remove(p)
	}
	return len(paths)
}

// stateFile remembers the temporary folder of the running cluster, so that
// the next run can clean up after one that was killed.
func stateFile() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "hubspot-operator", "cluster", "running")
}

func recordRoot(dir string) {
	if dir == "" {
		_ = os.Remove(stateFile())
		return
	}
	_ = os.MkdirAll(filepath.Dir(stateFile()), 0o755)
	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	_ = os.WriteFile(stateFile(), []byte(dir+"\n"+strconv.Itoa(os.Getpid())+"\n"+strings.TrimSpace(string(forward))), 0o600)
}

// running is the pid of another cluster run that is still alive: two would
// share the bridge, the Service range and the chains.
func running() (int, bool) {
	b, err := os.ReadFile(stateFile())
	if err != nil {
		return 0, false
	}
	lines := append(strings.Split(string(b), "\n"), "")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || pid == os.Getpid() {
		return 0, false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || !strings.Contains(string(cmdline), "cluster") {
		return 0, false
	}
	return pid, true
}

// cleanStale undoes what a killed run left: its processes (containerd's
// shims and their containers outlive containerd by design), mounts,
// chains, bridge and folder.
func cleanStale(p *printer) {
	b, err := os.ReadFile(stateFile())
	lines := append(strings.Split(string(b), "\n"), "", "", "")
	old := strings.TrimSpace(lines[0])
	if err != nil || old == "" || !strings.Contains(old, "hubspot-operator-cluster-") {
		return
	}
	killed := killProcessesMentioning(old)
	unmountUnder(old)
	netns := removeSandboxNetns()
	chains := sweepChains()
	_ = deleteBridge()
	if forward := strings.TrimSpace(lines[2]); forward == "0" {
		_ = os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte(forward), 0o644)
	}
	_ = os.RemoveAll(old)
	recordRoot("")
	p.step("cleaned up after a run that did not stop cleanly (%s): %d processes, %d network namespaces, %d chains and rules", old, killed, netns, chains)
}

// killProcessesMentioning kills the processes whose command line names dir
// (containerd's shims), and what runs in the kubelet's cgroups.
func killProcessesMentioning(dir string) int {
	killed := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	_ = filepath.WalkDir("/sys/fs/cgroup/pids/kubepods", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		return nil
	})
	return killed
}

// removeKubepodsCgroups removes the kubelet's cgroups once they are empty,
// deepest first.
func removeKubepodsCgroups() {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	for _, h := range hierarchies {
		var dirs []string
		_ = filepath.WalkDir(h, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = syscall.Rmdir(dirs[i])
		}
	}
}
