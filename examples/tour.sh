#!/usr/bin/env bash
# The five-minute tour of the README, as one script: every step prints the
# command it runs ("$ ...") and its output. test/e2e/tour_test.go runs this
# very script on `minik8s up` and checks the output the README promises.
# Needs KUBECONFIG pointing at the cluster (minik8s up prints it).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "\$ $*"; "$@"; echo; }

# 1. Deploy the example app and wait until it is ready.
step kubectl apply -f examples/web.yaml
step kubectl rollout status deployment/web --timeout=120s
step kubectl get pods -l app=web

# 2. Reach it through its Service: the proxy spreads requests over the pods.
ip=$(kubectl get service web -o jsonpath='{.spec.clusterIP}')
# (--retry: the proxy may still be writing the rules for the new endpoints)
for i in 1 2 3 4 5 6; do step curl -s --max-time 2 --retry 10 --retry-all-errors "http://$ip/"; done

# 3. Scale it.
step kubectl scale deployment/web --replicas=5
step kubectl rollout status deployment/web --timeout=120s

# 4. Roll out a new version, look at the history, and roll back.
step kubectl set env deployment/web VERSION=2
step kubectl rollout status deployment/web --timeout=120s
step kubectl rollout history deployment/web
step kubectl rollout undo deployment/web
step kubectl rollout status deployment/web --timeout=120s

# 5. Read a pod's logs (the test server logs every request).
step kubectl logs deployment/web --tail=3

# 6. Delete a pod and watch the ReplicaSet bring it back. (First let the
#    old version's pods finish terminating, so we pick a current one.)
for i in $(seq 1 60); do
  [ "$(kubectl get pods -l app=web -o name | wc -l)" = 5 ] && break
  sleep 1
done
victim=$(kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
step kubectl delete pod "$victim"
for i in $(seq 1 60); do
  ready=$(kubectl get deployment web -o jsonpath='{.status.readyReplicas}')
  [ "$ready" = 5 ] && break
  sleep 1
done
step kubectl get deployment web
