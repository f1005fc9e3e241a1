// Command bootstrap-controllers runs only the upstream kube-controller-manager
// controllers that matter for bootstrap tokens and node joins: bootstrapsigner,
// tokencleaner, csrapproving and csrsigning (kubelet client). They are the very
// same Go types kube-controller-manager constructs (k8s.io/kubernetes/pkg/controller/...);
// this main exists only because linking those few packages is far cheaper than
// linking every controller kube-controller-manager carries.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/bootstrap"
	"k8s.io/kubernetes/pkg/controller/certificates/approver"
	"k8s.io/kubernetes/pkg/controller/certificates/signer"
)

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of a client allowed to run the controllers")
	controllers := flag.String("controllers", "bootstrapsigner,tokencleaner,csrapproving,csrsigning", "comma-separated controllers to run")
	caFile := flag.String("cluster-signing-cert-file", "", "CA certificate for csrsigning")
	caKeyFile := flag.String("cluster-signing-key-file", "", "CA key for csrsigning")
	certTTL := flag.Duration("cluster-signing-duration", 365*24*time.Hour, "lifetime of signed certificates")
	flag.Parse()

	if err := run(*kubeconfig, *controllers, *caFile, *caKeyFile, *certTTL); err != nil {
		fmt.Fprintf(os.Stderr, "bootstrap-controllers: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, controllers, caFile, caKeyFile string, certTTL time.Duration) error {
	if kubeconfig == "" {
		return fmt.Errorf("--kubeconfig is required")
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("loading %s: %w", kubeconfig, err)
	}
	config.UserAgent = "bootstrap-controllers"
	client, err := clientset.NewForConfig(config)
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	factory := informers.NewSharedInformerFactory(client, 0)
	var runners []func(context.Context)
	for _, name := range strings.Split(controllers, ",") {
		switch strings.TrimSpace(name) {
		case "bootstrapsigner":
			// Options as kube-controller-manager's startBootstrapSignerController passes them.
			s, err := bootstrap.NewSigner(client, factory.Core().V1().Secrets(), factory.Core().V1().ConfigMaps(), bootstrap.DefaultSignerOptions())
			if err != nil {
				return fmt.Errorf("bootstrapsigner: %w", err)
			}
			runners = append(runners, s.Run)
		case "tokencleaner":
			tc, err := bootstrap.NewTokenCleaner(client, factory.Core().V1().Secrets(), bootstrap.DefaultTokenCleanerOptions())
			if err != nil {
				return fmt.Errorf("tokencleaner: %w", err)
			}
			runners = append(runners, tc.Run)
		case "csrapproving":
			c := approver.NewCSRApprovingController(ctx, client, factory.Certificates().V1().CertificateSigningRequests())
			runners = append(runners, func(ctx context.Context) { c.Run(ctx, 1) })
		case "csrsigning":
			if caFile == "" || caKeyFile == "" {
				return fmt.Errorf("csrsigning needs --cluster-signing-cert-file and --cluster-signing-key-file")
			}
			c, err := signer.NewKubeletClientCSRSigningController(ctx, client, factory.Certificates().V1().CertificateSigningRequests(), caFile, caKeyFile, certTTL)
			if err != nil {
				return fmt.Errorf("csrsigning: %w", err)
			}
			runners = append(runners, func(ctx context.Context) { c.Run(ctx, 1) })
		case "":
		default:
			return fmt.Errorf("unknown controller %q (known: bootstrapsigner, tokencleaner, csrapproving, csrsigning)", name)
		}
	}
	factory.Start(ctx.Done())
	for _, r := range runners {
		go r(ctx)
	}
	<-ctx.Done()
	factory.Shutdown()
	return nil
}
