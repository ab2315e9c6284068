package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeStatus is one node as `rudder lab status` shows it.
type NodeStatus struct {
	Name, IP   string
	NetNS      bool // the namespace exists
	AgentPID   int
	AgentAlive bool
	// Ready is the node's Ready condition from the API ("" when the API
	// did not answer, "absent" when the Node does not exist).
	Ready string
}

// Status describes a lab from its state file and the API.
type Status struct {
	Prefix, Dir, Kubeconfig string
	ServerPID               int
	ServerAlive             bool
	// APIError is why the API could not be asked ("" when it answered).
	APIError string
	Nodes    []NodeStatus
	Links    []string
}

// GetStatus reads the lab recorded in dir; it returns (nil, nil) when there
// is none.
func GetStatus(ctx context.Context, dir string) (*Status, error) {
	st, err := stateFor(DownOptions{Dir: dir})
	if err != nil || st == nil {
		return nil, err
	}
	s := &Status{Prefix: st.Prefix, Dir: st.Dir, Kubeconfig: st.Kubeconfig, Links: linksWithPrefix(st.Prefix)}
	if st.Server != nil {
		s.ServerPID, s.ServerAlive = st.Server.PID, st.Server.Alive()
	}
	ready := map[string]string{}
	l := &Lab{state: st}
	if cs, err := l.client(); err != nil {
		s.APIError = err.Error()
	} else {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if list, err := cs.CoreV1().Nodes().List(rctx, metav1.ListOptions{}); err != nil {
			s.APIError = err.Error()
		} else {
			for _, n := range list.Items {
				ready[n.Name] = "Unknown"
				for _, c := range n.Status.Conditions {
					if c.Type == corev1.NodeReady {
						ready[n.Name] = map[bool]string{true: "Ready", false: "NotReady"}[c.Status == corev1.ConditionTrue]
					}
				}
			}
		}
	}
	for _, n := range st.Nodes {
		ns := NodeStatus{Name: n.Name, IP: n.IP, Ready: ready[n.Name]}
		if s.APIError == "" && ns.Ready == "" {
			ns.Ready = "absent"
		}
		_, err := os.Stat(n.NetNS)
		ns.NetNS = err == nil
		if n.Agent != nil {
			ns.AgentPID, ns.AgentAlive = n.Agent.PID, n.Agent.Alive()
		}
		s.Nodes = append(s.Nodes, ns)
	}
	return s, nil
}

// Write prints the status as a short report with a node table.
func (s *Status) Write(w io.Writer) {
	fmt.Fprintf(w, "lab %s in %s\n", s.Prefix, s.Dir)
	fmt.Fprintf(w, "server: pid %d %s\n", s.ServerPID, aliveWord(s.ServerAlive))
	if s.APIError != "" {
		fmt.Fprintf(w, "API: %s\n", s.APIError)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tIP\tNAMESPACE\tAGENT\tSTATUS")
	for _, n := range s.Nodes {
		nsWord := "present"
		if !n.NetNS {
			nsWord = "missing"
		}
		ready := n.Ready
		if ready == "" {
			ready = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\tpid %d %s\t%s\n", n.Name, n.IP, nsWord, n.AgentPID, aliveWord(n.AgentAlive), ready)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "links: %v\n", s.Links)
}

func aliveWord(alive bool) string {
	if alive {
		return "running"
	}
	return "not running"
}

// WriteSummary prints how to use the lab: kubeconfig, nodes, next steps.
func (l *Lab) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "\nkubeconfig: %s\n  export KUBECONFIG=%s\n\n", l.Kubeconfig(), l.Kubeconfig())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tIP\tNETNS\tAGENT PID")
	for _, n := range l.Nodes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", n.Name, n.IP, n.NetNSPath, n.AgentPID)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nlogs: %s/logs\nnext:\n  kubectl get nodes -o wide\n  rudder lab status --dir %s\n  rudder lab down --dir %s\n",
		l.Dir(), l.Dir(), l.Dir())
}
