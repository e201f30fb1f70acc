// Package reliability is the operator's reliability suite (issue 9): crashes,
// Cloud Elements faults, control-plane blips, leader election, bad input,
// secret leaks and security posture, against a local kube-apiserver and etcd,
// the Cloud Elements simulator, and the real manager binary run as a separate
// process so that it can be killed.
//
// The specs are behind the `reliability` build tag, so `go test ./...` skips
// them. Run them with `make test-reliability`; they print their figures and
// rewrite docs/reliability.md. RELIABILITY_SEED repeats a run's randomness,
// RELIABILITY_STRICT=1 turns the known issues (requirements missed by code
// outside the suite, listed under Findings) into failures,
// RELIABILITY_KEEP_LOGS=1 keeps the operator logs. A run filtered with
// -ginkgo.label-filter (security, bad-input, crash, blips, faults, leader,
// leaks) writes its report beside the logs instead.
package reliability
