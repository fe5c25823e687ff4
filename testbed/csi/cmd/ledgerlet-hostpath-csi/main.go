// ledgerlet-hostpath-csi: the testbed's CSI driver. Volumes are directories under
// <statedir>/volumes/<volume id>; NodeStageVolume bind-mounts one onto the staging path,
// NodePublishVolume bind-mounts the staging path (or, for an inline ephemeral volume, a fresh
// directory) onto the target path. What is staged and published is kept in <statedir>/state.json
// so tests can check the driver's own view as well as the mount table.
//
// With --registration-dir it also serves pluginregistration.v1 Registration on
// <registration-dir>/<driver>-reg.sock, as node-driver-registrar does for real drivers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

const version = "0.1.0"

type volume struct {
	ID            string            `json:"id"`
	Path          string            `json:"path"`
	Ephemeral     bool              `json:"ephemeral"`
	Staged        []string          `json:"staged"`
	Published     []string          `json:"published"`
	VolumeContext map[string]string `json:"volumeContext,omitempty"`
}

type state struct {
	Volumes      map[string]*volume `json:"volumes"`
	Registration *struct {
		Registered bool   `json:"registered"`
		Error      string `json:"error,omitempty"`
	} `json:"registration,omitempty"`
}

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedNodeServer
	registerapi.UnimplementedRegistrationServer

	name, nodeID, stateDir, endpointPath string
	mu                                   sync.Mutex
	st                                   state
}

func (d *driver) statePath() string { return filepath.Join(d.stateDir, "state.json") }

func (d *driver) load() {
	d.st = state{Volumes: map[string]*volume{}}
	if b, err := os.ReadFile(d.statePath()); err == nil {
		_ = json.Unmarshal(b, &d.st)
		if d.st.Volumes == nil {
			d.st.Volumes = map[string]*volume{}
		}
	}
}

func (d *driver) save() error {
	b, err := json.MarshalIndent(d.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.statePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, d.statePath())
}

func (d *driver) vol(id string, ephemeral bool) *volume {
	v := d.st.Volumes[id]
	if v == nil {
		v = &volume{ID: id, Path: filepath.Join(d.stateDir, "volumes", safe(id)), Ephemeral: ephemeral, Staged: []string{}, Published: []string{}}
		d.st.Volumes[id] = v
	}
	return v
}

func safe(id string) string { return strings.NewReplacer("/", "_", "..", "__").Replace(id) }

func add(list []string, p string) []string {
	for _, x := range list {
		if x == p {
			return list
		}
	}
	return append(list, p)
}

func remove(list []string, p string) []string {
	out := []string{}
	for _, x := range list {
		if x != p {
			out = append(out, x)
		}
	}
	return out
}

// isMountPoint: the path is a mount point in this mount namespace (/proc/self/mountinfo).
func isMountPoint(p string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	clean := filepath.Clean(p)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescape(f[4]) == clean {
			return true
		}
	}
	return false
}

func unescape(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func bind(src, dst string, readonly bool) error {
	if isMountPoint(dst) {
		return nil
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, dst, err)
	}
	if readonly {
		if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			_ = syscall.Unmount(dst, 0)
			return fmt.Errorf("remount %s read-only: %w", dst, err)
		}
	}
	return nil
}

func unmount(p string) error {
	for isMountPoint(p) {
		if err := syscall.Unmount(p, 0); err != nil {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
	}
	return nil
}

// ---------------------------------------------------------------- Identity

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.name, VendorVersion: version}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{{
		Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS}},
	}}}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

// ---------------------------------------------------------------- Node

const topologyKey = "topology.hostpath.csi/node"

func (d *driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.nodeID, AccessibleTopology: &csi.Topology{Segments: map[string]string{topologyKey: d.nodeID}}}, nil
}

func (d *driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{Capabilities: []*csi.NodeServiceCapability{{
		Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{Type: csi.NodeServiceCapability_RPC_STAGE_UNSTAGE_VOLUME}},
	}}}, nil
}

func (d *driver) NodeStageVolume(_ context.Context, r *csi.NodeStageVolumeRequest) (*csi.NodeStageVolumeResponse, error) {
	if r.VolumeId == "" || r.StagingTargetPath == "" || r.VolumeCapability == nil {
		return nil, status.Error(codes.InvalidArgument, "volume_id, staging_target_path and volume_capability are required")
	}
	if r.VolumeCapability.GetBlock() != nil {
		return nil, status.Error(codes.InvalidArgument, "block volumes are not supported")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.vol(r.VolumeId, false)
	if err := os.MkdirAll(v.Path, 0o777); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := os.MkdirAll(r.StagingTargetPath, 0o750); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := bind(v.Path, r.StagingTargetPath, false); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	v.Staged = add(v.Staged, r.StagingTargetPath)
	v.VolumeContext = r.VolumeContext
	return &csi.NodeStageVolumeResponse{}, d.save()
}

func (d *driver) NodeUnstageVolume(_ context.Context, r *csi.NodeUnstageVolumeRequest) (*csi.NodeUnstageVolumeResponse, error) {
	if r.VolumeId == "" || r.StagingTargetPath == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id and staging_target_path are required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := unmount(r.StagingTargetPath); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if v := d.st.Volumes[r.VolumeId]; v != nil {
		v.Staged = remove(v.Staged, r.StagingTargetPath)
	}
	return &csi.NodeUnstageVolumeResponse{}, d.save()
}

func (d *driver) NodePublishVolume(_ context.Context, r *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	if r.VolumeId == "" || r.TargetPath == "" || r.VolumeCapability == nil {
		return nil, status.Error(codes.InvalidArgument, "volume_id, target_path and volume_capability are required")
	}
	ephemeral := r.VolumeContext["csi.storage.k8s.io/ephemeral"] == "true"
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.vol(r.VolumeId, ephemeral)
	src := r.StagingTargetPath
	if ephemeral {
		if err := os.MkdirAll(v.Path, 0o777); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		src = v.Path
		v.VolumeContext = r.VolumeContext
	} else if src == "" {
		return nil, status.Error(codes.FailedPrecondition, "staging_target_path is required: the volume must be staged first")
	} else if !isMountPoint(src) {
		return nil, status.Errorf(codes.FailedPrecondition, "volume %s is not staged at %s", r.VolumeId, src)
	}
	if err := os.MkdirAll(r.TargetPath, 0o750); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := bind(src, r.TargetPath, r.Readonly); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	v.Published = add(v.Published, r.TargetPath)
	return &csi.NodePublishVolumeResponse{}, d.save()
}

func (d *driver) NodeUnpublishVolume(_ context.Context, r *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if r.VolumeId == "" || r.TargetPath == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id and target_path are required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := unmount(r.TargetPath); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	_ = os.Remove(r.TargetPath)
	if v := d.st.Volumes[r.VolumeId]; v != nil {
		v.Published = remove(v.Published, r.TargetPath)
		if v.Ephemeral && len(v.Published) == 0 {
			_ = os.RemoveAll(v.Path)
			delete(d.st.Volumes, r.VolumeId)
		}
	}
	return &csi.NodeUnpublishVolumeResponse{}, d.save()
}

// ---------------------------------------------------------------- Registration (node-driver-registrar's part)

func (d *driver) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{Type: registerapi.CSIPlugin, Name: d.name, Endpoint: d.endpointPath, SupportedVersions: []string{"1.0.0"}}, nil
}

func (d *driver) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	log.Printf("registration status from the kubelet: registered=%v error=%q", s.PluginRegistered, s.Error)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st.Registration = &struct {
		Registered bool   `json:"registered"`
		Error      string `json:"error,omitempty"`
	}{s.PluginRegistered, s.Error}
	return &registerapi.RegistrationStatusResponse{}, d.save()
}

func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	_ = os.Remove(path)
	return net.Listen("unix", path)
}

func main() {
	endpoint := flag.String("endpoint", "unix:///var/lib/kubelet/plugins/hostpath.csi.k8s.io/csi.sock", "CSI endpoint")
	nodeID := flag.String("nodeid", "", "node id")
	name := flag.String("drivername", "hostpath.csi.k8s.io", "driver name")
	stateDir := flag.String("statedir", "/var/lib/csi-hostpath-data", "volumes and state.json")
	regDir := flag.String("registration-dir", "", "kubelet plugin registration directory (plugins_registry); empty: no registration socket")
	flag.Parse()
	if *nodeID == "" {
		log.Fatal("--nodeid is required")
	}
	sock := strings.TrimPrefix(*endpoint, "unix://")
	d := &driver{name: *name, nodeID: *nodeID, stateDir: *stateDir, endpointPath: sock}
	if err := os.MkdirAll(filepath.Join(*stateDir, "volumes"), 0o750); err != nil {
		log.Fatal(err)
	}
	d.load()

	lis, err := listen(sock)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterNodeServer(srv, d)
	go func() { log.Fatal(srv.Serve(lis)) }()
	log.Printf("%s %s serving CSI on %s (node %s, state %s)", *name, version, sock, *nodeID, *stateDir)

	var reg *grpc.Server
	var regSock string
	if *regDir != "" {
		regSock = filepath.Join(*regDir, *name+"-reg.sock")
		rl, err := listen(regSock)
		if err != nil {
			log.Fatal(err)
		}
		reg = grpc.NewServer()
		registerapi.RegisterRegistrationServer(reg, d)
		go func() { log.Fatal(reg.Serve(rl)) }()
		log.Printf("serving plugin registration on %s", regSock)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if reg != nil {
		reg.Stop()
		_ = os.Remove(regSock)
	}
	srv.Stop()
	_ = os.Remove(sock)
}
