# Sourced (not run) by deploy/demo.sh and bench/resnet_network.sh for their
# --s3 / --store s3 mode: a real S3 server process on loopback.
#
# start_s3rver ROOT DIR BUCKET
#   Starts s3rver (npm, installed into ROOT/.cache/npm by
#   deploy/bootstrap.sh --with-test-tools) on a free loopback port with its
#   data in DIR/s3rver and its log in DIR/s3rver.log, creates BUCKET, and
#   waits until it answers. Sets S3_PID (the caller stops it) and
#   S3_ENDPOINT, and exports the credentials s3rver accepts (S3RVER/S3RVER).
#   Calls the caller's die() when s3rver is missing or does not start.
start_s3rver() {
  local root="$1" dir="$2" bucket="$3"
  local bin="$root/.cache/npm/node_modules/.bin/s3rver" port
  [[ -x $bin ]] || die "s3rver is not installed; run deploy/bootstrap.sh --with-test-tools"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  mkdir -p "$dir/s3rver"
  "$bin" -d "$dir/s3rver" -a 127.0.0.1 -p "$port" --configure-bucket "$bucket" \
    >"$dir/s3rver.log" 2>&1 &
  S3_PID=$!
  S3_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$S3_ENDPOINT/" && break
    sleep 0.1
  done
  curl -s -o /dev/null "$S3_ENDPOINT/" || die "s3rver did not start (see $dir/s3rver.log)"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  echo "  s3rver pid $S3_PID at $S3_ENDPOINT, bucket $bucket"
}
