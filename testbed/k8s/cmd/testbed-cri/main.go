// testbed-cri is the testbed's own small CRI client (the crictl it does not have).
//
//	testbed-cri -endpoint unix:///path/containerd.sock version
//	testbed-cri -endpoint ... ps        # pod sandboxes and containers, one per line
//	testbed-cri -endpoint ... images    # image references known to the runtime
//	testbed-cri -endpoint ... clean     # stop and remove every container and pod sandbox
//	testbed-cri -endpoint ... smoke IMAGE  # run a pod sandbox with one `sleep` container from
//	                                       # IMAGE (pulled through CRI), print its IP; left running
//
// `scripts/testbed down` runs `clean` before it stops containerd, so no shim or container
// started through the testbed's containerd is left running.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("TESTBED_CRI_ENDPOINT"), "CRI endpoint (unix:///path)")
	timeout := flag.Duration("timeout", 60*time.Second, "overall deadline")
	flag.Parse()
	if *endpoint == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: testbed-cri -endpoint unix:///path.sock version|ps|images|clean")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	target := *endpoint
	if !strings.HasPrefix(target, "unix://") {
		target = "unix://" + target
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	img := runtimeapi.NewImageServiceClient(conn)

	switch flag.Arg(0) {
	case "version":
		v, err := rt.Version(ctx, &runtimeapi.VersionRequest{})
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s %s (CRI %s)\n", v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)
	case "ps":
		pods, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			fail(err)
		}
		for _, p := range pods.Items {
			fmt.Printf("sandbox   %.13s  %-8s %s/%s\n", p.Id, strings.TrimPrefix(p.State.String(), "SANDBOX_"), p.Metadata.GetNamespace(), p.Metadata.GetName())
		}
		cs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err != nil {
			fail(err)
		}
		for _, c := range cs.Containers {
			fmt.Printf("container %.13s  %-8s %s (sandbox %.13s) %s\n", c.Id, strings.TrimPrefix(c.State.String(), "CONTAINER_"), c.Metadata.GetName(), c.PodSandboxId, c.Image.GetImage())
		}
	case "images":
		is, err := img.ListImages(ctx, &runtimeapi.ListImagesRequest{})
		if err != nil {
			fail(err)
		}
		for _, i := range is.Images {
			fmt.Printf("%s %s\n", strings.Join(i.RepoTags, ","), i.Id)
		}
	case "clean":
		failed := false
		cs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err != nil {
			fail(err)
		}
		for _, c := range cs.Containers {
			if _, err := rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: 0}); err != nil {
				fmt.Fprintf(os.Stderr, "stop container %s: %v\n", c.Id, err)
				failed = true
			}
			if _, err := rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
				fmt.Fprintf(os.Stderr, "remove container %s: %v\n", c.Id, err)
				failed = true
			}
		}
		pods, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			fail(err)
		}
		for _, p := range pods.Items {
			if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				fmt.Fprintf(os.Stderr, "stop sandbox %s: %v\n", p.Id, err)
				failed = true
			}
			if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				fmt.Fprintf(os.Stderr, "remove sandbox %s: %v\n", p.Id, err)
				failed = true
			}
		}
		fmt.Printf("removed %d containers and %d pod sandboxes\n", len(cs.Containers), len(pods.Items))
		if failed {
			os.Exit(1)
		}
	case "smoke":
		if flag.NArg() != 2 {
			fail(fmt.Errorf("smoke needs an image reference"))
		}
		smoke(ctx, rt, img, flag.Arg(1))
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", flag.Arg(0))
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "testbed-cri:", err)
	os.Exit(1)
}

// smoke starts one pod through the whole CRI path (sandbox with CNI, image pull, container
// create/start) and leaves it running, so `scripts/testbed down` has something to clean.
func smoke(ctx context.Context, rt runtimeapi.RuntimeServiceClient, img runtimeapi.ImageServiceClient, image string) {
	name := fmt.Sprintf("testbed-smoke-%d", time.Now().UnixNano())
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "testbed", Uid: name},
		Hostname:     name,
		LogDirectory: "/tmp/" + name,
		Linux:        &runtimeapi.LinuxPodSandboxConfig{},
	}
	sb, err := rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		fail(err)
	}
	if _, err := img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}, SandboxConfig: cfg}); err != nil {
		fail(err)
	}
	c, err := rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId:  sb.PodSandboxId,
		SandboxConfig: cfg,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "sleep"},
			Image:    &runtimeapi.ImageSpec{Image: image},
			Command:  []string{"sleep", "3600"},
			LogPath:  "sleep.log",
			Linux:    &runtimeapi.LinuxContainerConfig{},
		},
	})
	if err != nil {
		fail(err)
	}
	if _, err := rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.ContainerId}); err != nil {
		fail(err)
	}
	st, err := rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sb.PodSandboxId})
	if err != nil {
		fail(err)
	}
	fmt.Printf("sandbox %.13s container %.13s ip %s\n", sb.PodSandboxId, c.ContainerId, st.Status.GetNetwork().GetIp())
}
