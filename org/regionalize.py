#!/usr/bin/env python3
"""Makes a packaged template deployable in any region that has a copy of its code.

`sam package --use-json` writes each function's code location as one bucket, in one region:
CodeUri "s3://BUCKET/KEY" (AWS::Serverless::Function) or Code {S3Bucket, S3Key}
(AWS::Lambda::Function). Lambda reads code only from a bucket in the function's own region,
so this rewrites each one to the bucket of the region the stack is deployed in,
"PREFIX-${AWS::Region}", with the same key:

    CodeUri: {Bucket: {Fn::Sub: "PREFIX-${AWS::Region}"}, Key: KEY}
    Code:    {S3Bucket: {Fn::Sub: "PREFIX-${AWS::Region}"}, S3Key: KEY}

and changes nothing else. It prints the keys, one per line, for the caller to copy into every
region's bucket. Anything it cannot make regional is an error naming it, and then it writes
no output: a function whose code is not in BUCKET (not packaged, or packaged elsewhere), an
image or versioned code location, and any other mention of BUCKET left in the template.

Usage: regionalize.py --bucket BUCKET --prefix PREFIX PACKAGED.json OUTPUT.json
Standard library only (any Python 3.8+).
"""

import argparse
import json
import re
import sys

# A bucket name without dots (a virtual-hosted HTTPS URL needs none), to which "-REGION" is added.
PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Unregional(Exception):
    """Something in the template that this rewrite cannot make regional."""


def regional_bucket(prefix):
    return {"Fn::Sub": prefix + "-${AWS::Region}"}


def s3_uri_key(uri, bucket):
    """The key of "s3://BUCKET/KEY", or None when the URI is not in BUCKET."""
    head = "s3://" + bucket + "/"
    if not isinstance(uri, str) or not uri.startswith(head) or len(uri) == len(head):
        return None
    return uri[len(head):]


def rewrite_serverless_function(logical_id, properties, bucket, prefix):
    where = "Resources.%s.Properties" % logical_id
    if "ImageUri" in properties or properties.get("PackageType") == "Image":
        raise Unregional("%s: an image function (ECR is regional too); only zip code is supported" % where)
    if "CodeUri" not in properties:
        if "InlineCode" in properties:
            return None
        raise Unregional("%s has no CodeUri: was the template packaged by sam package?" % where)
    code = properties["CodeUri"]
    if isinstance(code, dict):
        if set(code) != {"Bucket", "Key"} or code["Bucket"] != bucket or not isinstance(code["Key"], str):
            raise Unregional(
                "%s.CodeUri is %s, not {Bucket: %s, Key: ...}" % (where, json.dumps(code), bucket)
            )
        key = code["Key"]
    else:
        key = s3_uri_key(code, bucket)
        if key is None:
            raise Unregional(
                "%s.CodeUri is %s, not code in s3://%s/: was the template packaged into that bucket?"
                % (where, json.dumps(code), bucket)
            )
        if "?" in key:
            raise Unregional(
                "%s.CodeUri %s names an object version, which differs in each region's copy" % (where, code)
            )
    properties["CodeUri"] = {"Bucket": regional_bucket(prefix), "Key": key}
    return key


def rewrite_lambda_function(logical_id, properties, bucket, prefix):
    where = "Resources.%s.Properties.Code" % logical_id
    code = properties.get("Code")
    if not isinstance(code, dict):
        raise Unregional("%s is %s, not an object" % (where, json.dumps(code)))
    if "ZipFile" in code:
        return None
    if "ImageUri" in code:
        raise Unregional("%s: an image function (ECR is regional too); only zip code is supported" % where)
    if set(code) != {"S3Bucket", "S3Key"} or code["S3Bucket"] != bucket or not isinstance(code["S3Key"], str):
        raise Unregional("%s is %s, not {S3Bucket: %s, S3Key: ...}" % (where, json.dumps(code), bucket))
    properties["Code"] = {"S3Bucket": regional_bucket(prefix), "S3Key": code["S3Key"]}
    return code["S3Key"]


REWRITES = {
    "AWS::Serverless::Function": rewrite_serverless_function,
    "AWS::Lambda::Function": rewrite_lambda_function,
}


def mentions(value, text, path):
    """The paths under `value` whose keys or strings contain `text`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if text in key:
                yield path + "." + key
            yield from mentions(item, text, path + "." + key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from mentions(item, text, "%s[%d]" % (path, index))
    elif isinstance(value, str) and text in value:
        yield path


def regionalize(template, bucket, prefix):
    """Rewrites `template` in place; returns the keys of the code it points at, in order."""
    if not PREFIX.match(prefix):
        raise Unregional(
            "the bucket prefix %r is not lowercase letters, digits and hyphens (no dots)" % prefix
        )
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        raise Unregional("no Resources: not a CloudFormation template")
    keys = []
    for logical_id, resource in resources.items():
        rewrite = REWRITES.get(resource.get("Type")) if isinstance(resource, dict) else None
        if rewrite is None:
            continue
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            raise Unregional("Resources.%s has no Properties" % logical_id)
        key = rewrite(logical_id, properties, bucket, prefix)
        if key is not None and key not in keys:
            keys.append(key)
    if not keys:
        raise Unregional("no function's code is in s3://%s/: nothing to make regional" % bucket)
    left = list(mentions(template, bucket, "template"))
    if left:
        raise Unregional(
            "still in the single bucket %s, which only its own region can read: %s"
            % (bucket, ", ".join(left))
        )
    return keys


def main(argv):
    parser = argparse.ArgumentParser(
        prog="regionalize.py",
        description="Point a packaged template's function code at PREFIX-${AWS::Region}.",
    )
    parser.add_argument("--bucket", required=True, help="the bucket sam package uploaded to")
    parser.add_argument("--prefix", required=True, help="the regional buckets are PREFIX-REGION")
    parser.add_argument("packaged", help="sam package --use-json output")
    parser.add_argument("output", help="where to write the regional template")
    args = parser.parse_args(argv)
    try:
        with open(args.packaged, encoding="utf-8") as source:
            template = json.load(source)
    except (OSError, ValueError) as err:
        print("regionalize: cannot read %s as JSON: %s" % (args.packaged, err), file=sys.stderr)
        return 1
    try:
        keys = regionalize(template, args.bucket, args.prefix)
    except Unregional as err:
        print("regionalize: %s: %s" % (args.packaged, err), file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(template, out, indent=2)
        out.write("\n")
    for key in keys:
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
