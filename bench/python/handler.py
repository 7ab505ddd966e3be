"""sync-watcher's check of one stack, written as a boto3 user would: the cold path the
benchmark compares gitsync-guard's functions with.

It makes the AWS calls sync-watcher's first invocation makes for the benchmark's event
{"stack": "platform-vpc"}, in the same order, and creates at module level the clients
sync-watcher creates at cold start (CodeStar Connections, SNS, DynamoDB, CloudFormation).
Endpoints, region and credentials come from the same environment variables
(AWS_ENDPOINT_URL_<SERVICE>, AWS_CA_BUNDLE for the trust store).

Only the path the benchmark takes is written: a stack whose summary lists blockers would need
the ledger and SNS, so it raises instead of answering something sync-watcher would not.
"""

import boto3

codestar = boto3.client("codestar-connections")
sns = boto3.client("sns")
dynamodb = boto3.client("dynamodb")
cloudformation = boto3.client("cloudformation")


def handler(event, context):
    stack = event["stack"]
    try:
        summary = codestar.get_sync_blocker_summary(
            ResourceName=stack, SyncType="CFN_STACK_SYNC"
        )["SyncBlockerSummary"]
    except codestar.exceptions.ResourceNotFoundException:
        return {"action": "ignored", "stack": stack, "active_blockers": 0}
    blockers = summary.get("LatestBlockers", [])
    if blockers:
        raise NotImplementedError(
            f"{stack} has {len(blockers)} blocker(s): the bench handler covers only a stack without any"
        )
    return {
        "action": "checked-stack",
        "stack": summary["ResourceName"],
        "active_blockers": 0,
        "note": "no active blocker",
    }
