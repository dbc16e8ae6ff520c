#!/bin/sh
# load.sh [WORKERS]: send events/order.json to orders:live from WORKERS parallel loops (default 2) until Ctrl-C,
# printing one line per invocation: the time, the version that answered, and the function error if any.
# FUNCTION (default orders) names the function; the AWS CLI's usual environment says where and as whom.
cd "$(dirname "$0")" || exit 1
trap 'kill 0' INT TERM
i=0
# Each call starts the AWS CLI anew (about a second of CPU for CLI v1): two loops give a 10% canary a few dozen
# calls in its 30 scaled seconds without taking every core of a small machine.
while [ "$i" -lt "${1:-2}" ]; do
  i=$((i + 1))
  while :; do
    out=$(aws lambda invoke --function-name "${FUNCTION:-orders}:live" --payload fileb://events/order.json /dev/null \
      --query '[ExecutedVersion, FunctionError]' --output text 2>&1)
    echo "$(date +%T) $out"
  done &
done
wait
