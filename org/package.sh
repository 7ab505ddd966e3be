#!/usr/bin/env bash
# Packages gitsync-guard's member template (template.yaml) for an organization's StackSet, in
# every region it lists: builds it (sam build), packages it into the first region's code bucket
# (sam package), points each function's code at the bucket of the region the stack runs in,
# PREFIX-${AWS::Region} (org/regionalize.py), copies the code into every other region's bucket,
# and uploads the template. Prints the TemplateURL to give org/hub.yaml, and nothing else, on
# stdout. Lambda reads a function's code only from a bucket in the function's own region: hence
# one bucket per region, named PREFIX-REGION (README, "Organization", creates them).
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: org/package.sh --bucket-prefix PREFIX --regions REGION[,REGION...]
                      [--version VERSION] [--built-template FILE]

  --bucket-prefix PREFIX  the code buckets are PREFIX-REGION, one in each region, all existing
  --regions LIST          the regions the members run in, comma-separated (the hub's Regions);
                          the first one's bucket also holds the packaged template
  --version VERSION       the folder under gitsync-guard/ in the buckets
                          (default: git describe --tags --always --dirty)
  --built-template FILE   package this template built earlier by sam build
                          (.aws-sam/build/template.yaml) instead of building now

Needs sam, aws and python3 on PATH, and cargo-lambda to build (`. scripts/tools.sh all`
installs them), and credentials that can read and write the buckets.
EOF
}

fail() {
  echo "package: $*" >&2
  exit 1
}

prefix=""
regions_list=""
version=""
built=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bucket-prefix | --regions | --version | --built-template)
      [ $# -ge 2 ] || {
        usage
        fail "$1 needs a value"
      }
      case "$1" in
        --bucket-prefix) prefix=$2 ;;
        --regions) regions_list=$2 ;;
        --version) version=$2 ;;
        --built-template) built=$2 ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      fail "unknown argument: $1"
      ;;
  esac
done

[ -n "$prefix" ] || {
  usage
  fail "--bucket-prefix is required"
}
[ -n "$regions_list" ] || {
  usage
  fail "--regions is required"
}
[[ $prefix =~ ^[a-z0-9][a-z0-9-]*$ ]] ||
  fail "bucket prefix '$prefix': use lowercase letters, digits and hyphens (no dots: the TemplateURL is virtual-hosted HTTPS)"

IFS=, read -r -a regions <<<"$regions_list"
seen=,
for region in "${regions[@]}"; do
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || fail "'$region' in --regions is not a region name such as eu-west-1"
  case "$seen" in *",$region,"*) fail "$region is listed twice in --regions" ;; esac
  seen="$seen$region,"
  bucket="$prefix-$region"
  [ ${#bucket} -le 63 ] || fail "bucket name $bucket is longer than S3's 63 characters: shorten the prefix"
done

tools=(sam aws python3)
[ -n "$built" ] || tools+=(cargo-lambda)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool is not on PATH: run \`. scripts/tools.sh all\` in this shell (or a subshell) first"
done
if [ -n "$built" ]; then
  [ -f "$built" ] || fail "--built-template $built: no such file"
  case "$built" in /*) ;; *) built="$PWD/$built" ;; esac
fi

cd "$(dirname "$0")/.."

if [ -z "$version" ]; then
  version=$(git describe --tags --always --dirty 2>/dev/null) ||
    fail "not a git checkout: give --version"
fi
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
  fail "version '$version': use letters, digits, '.', '_' and '-'"

first_region=${regions[0]}
first_bucket="$prefix-$first_region"
key_prefix="gitsync-guard/$version"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every bucket first, before anything is uploaded: it exists, we can read it, and it is in
# the region its name says (Lambda in that region reads it).
for region in "${regions[@]}"; do
  bucket="$prefix-$region"
  if ! location=$(aws s3api get-bucket-location --bucket "$bucket" --region "$region" \
    --query LocationConstraint --output text 2>"$work/error"); then
    fail "bucket $bucket (for $region) is missing or not readable; create it as README.md's \"Organization\" says (aws: $(awk 'NF { printf "%s%s", sep, $0; sep = " " }' "$work/error"))"
  fi
  case "$location" in
    None | "") location=us-east-1 ;;
    EU) location=eu-west-1 ;;
  esac
  [ "$location" = "$region" ] ||
    fail "bucket $bucket is in $location, not $region: Lambda in $region cannot read it"
done

if [ -z "$built" ]; then
  echo "package: sam build" >&2
  sam build --template template.yaml >&2
  built=.aws-sam/build/template.yaml
fi

echo "package: sam package into s3://$first_bucket/$key_prefix/" >&2
sam package --template-file "$built" --s3-bucket "$first_bucket" --s3-prefix "$key_prefix" \
  --region "$first_region" --use-json --output-template-file "$work/packaged.json" >&2

python3 org/regionalize.py --bucket "$first_bucket" --prefix "$prefix" \
  "$work/packaged.json" "$work/regional.json" >"$work/keys"
keys=()
while IFS= read -r key; do keys+=("$key"); done <"$work/keys"
[ ${#keys[@]} -gt 0 ] || fail "the packaged template names no code"

for region in "${regions[@]:1}"; do
  bucket="$prefix-$region"
  echo "package: copying ${#keys[@]} code objects to s3://$bucket" >&2
  for key in "${keys[@]}"; do
    aws s3 cp "s3://$first_bucket/$key" "s3://$bucket/$key" \
      --source-region "$first_region" --region "$region" --only-show-errors
  done
done

# Each region's copy, checked: every key present, as long as the original.
sizes() {
  aws s3api list-objects-v2 --bucket "$1" --prefix "$key_prefix/" --region "$2" \
    --query 'Contents[].[Key, Size]' --output text
}
sizes "$first_bucket" "$first_region" >"$work/sizes"
for region in "${regions[@]:1}"; do
  bucket="$prefix-$region"
  sizes "$bucket" "$region" >"$work/copied"
  for key in "${keys[@]}"; do
    size=$(awk -v key="$key" '$1 == key { print $2 }' "$work/sizes")
    copied=$(awk -v key="$key" '$1 == key { print $2 }' "$work/copied")
    [ -n "$copied" ] || fail "s3://$bucket/$key is missing after the copy"
    [ "$copied" = "$size" ] || fail "s3://$bucket/$key has $copied bytes, s3://$first_bucket/$key ${size:-none}"
  done
done

template_key="$key_prefix/packaged.json"
aws s3 cp "$work/regional.json" "s3://$first_bucket/$template_key" --region "$first_region" \
  --only-show-errors
echo "package: ${#keys[@]} code objects in the buckets of $regions_list; the TemplateURL:" >&2
echo "https://$first_bucket.s3.$first_region.amazonaws.com/$template_key"
