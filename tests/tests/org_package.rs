//! Packaging for an organization in several regions: org/regionalize.py points every function's
//! code at `PREFIX-${AWS::Region}` with its key and changes nothing else, and refuses what it
//! cannot make regional; org/package.sh, with the real `sam package` and AWS CLI against moto's
//! S3, puts each function's own code in every region's bucket, uploads the template it prints
//! the URL of, and names a missing bucket before uploading anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use e2e::template::Template;
use e2e::{Moto, log_dir, tool, workspace_root};
use serde_json::{Map, Value, json};
use serde_yaml_ng::Value as Yaml;

const PREFIX: &str = "gsg-222222222222";
const VERSION: &str = "9.9.9-test";

/// A YAML template as CloudFormation JSON: short-form intrinsics (`!Ref X`, `!GetAtt A.B`,
/// `!Sub ...`) in their long form, as `sam package --use-json` writes them.
fn long_form(value: &Yaml) -> Value {
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => json!(flag),
        Yaml::Number(number) => {
            if let Some(n) = number.as_u64() {
                json!(n)
            } else if let Some(n) = number.as_i64() {
                json!(n)
            } else {
                json!(number.as_f64())
            }
        }
        Yaml::String(text) => json!(text),
        Yaml::Sequence(items) => Value::Array(items.iter().map(long_form).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    (
                        key.as_str().expect("string keys").to_owned(),
                        long_form(item),
                    )
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = match (&tagged.value, tag) {
                (Yaml::String(path), "GetAtt") => {
                    let (resource, attribute) = path.split_once('.').expect("!GetAtt A.B");
                    json!([resource, attribute])
                }
                (other, _) => long_form(other),
            };
            let name = match tag {
                "Ref" | "Condition" => tag.to_owned(),
                _ => format!("Fn::{tag}"),
            };
            json!({ name: inner })
        }
    }
}

/// template.yaml's functions, by logical id.
fn function_ids() -> Vec<String> {
    let ids: Vec<String> = Template::load()
        .resources("AWS::Serverless::Function")
        .into_keys()
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    ids
}

fn regional_code(key: &str) -> Value {
    json!({"Bucket": {"Fn::Sub": format!("{PREFIX}-${{AWS::Region}}")}, "Key": key})
}

/// A fresh directory outside the workspace.
fn scratch(name: &str) -> PathBuf {
    let dir = log_dir(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the command runs")
}

/// Runs org/regionalize.py on `packaged`, as org/package.sh does with us-east-1 first.
fn regionalize(dir: &Path, packaged: &Value, prefix: &str) -> (Output, PathBuf) {
    let input = dir.join("packaged.json");
    let output = dir.join("regional.json");
    let _ = std::fs::remove_file(&output);
    std::fs::write(&input, packaged.to_string()).expect("write the packaged template");
    let result = run(tool("python3")
        .arg(workspace_root().join("org/regionalize.py"))
        .args([
            "--bucket",
            &format!("{PREFIX}-us-east-1"),
            "--prefix",
            prefix,
        ])
        .arg(&input)
        .arg(&output));
    (result, output)
}

/// template.yaml as `sam package --use-json` writes it into `PREFIX-us-east-1`: long form, and
/// each function's CodeUri an `s3://` URI (the end-to-end test below runs the real one).
fn packaged() -> (Value, Vec<String>) {
    let mut template = long_form(&Template::load());
    let mut keys = Vec::new();
    for (index, id) in function_ids().iter().enumerate() {
        let key = format!("gitsync-guard/{VERSION}/{index:032x}");
        template["Resources"][id]["Properties"]["CodeUri"] =
            json!(format!("s3://{PREFIX}-us-east-1/{key}"));
        keys.push(key);
    }
    (template, keys)
}

#[test]
fn the_rewrite_points_each_function_at_its_regions_bucket_and_changes_nothing_else() {
    let dir = scratch("regionalize");
    let (mut template, mut keys) = packaged();
    // CloudFormation's own function type, in the form sam package writes for it.
    let plain_key = format!("gitsync-guard/{VERSION}/{:032x}", 99);
    template["Resources"]["PlainFunction"] = json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {"Code": {"S3Bucket": format!("{PREFIX}-us-east-1"), "S3Key": plain_key}},
    });
    keys.push(plain_key.clone());

    let (result, output) = regionalize(&dir, &template, PREFIX);
    assert!(result.status.success(), "{}", text(&result.stderr));
    let mut printed: Vec<String> = text(&result.stdout).lines().map(str::to_owned).collect();
    printed.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(printed, sorted, "the keys to copy, each once");

    let rewritten: Value =
        serde_json::from_slice(&std::fs::read(&output).expect("the output")).expect("JSON");
    let mut expected = template.clone();
    for (id, key) in function_ids().iter().zip(&keys) {
        expected["Resources"][id]["Properties"]["CodeUri"] = regional_code(key);
    }
    expected["Resources"]["PlainFunction"]["Properties"]["Code"] = json!({
        "S3Bucket": {"Fn::Sub": format!("{PREFIX}-${{AWS::Region}}")},
        "S3Key": plain_key,
    });
    assert_eq!(rewritten, expected);
    assert!(
        !rewritten
            .to_string()
            .contains(&format!("{PREFIX}-us-east-1")),
        "the first region's bucket is gone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The properties of the template's first function (template.yaml's first, by logical id).
fn first_function(template: &mut Value) -> &mut Map<String, Value> {
    let id = &function_ids()[0];
    template["Resources"][id]["Properties"]
        .as_object_mut()
        .expect("properties")
}

#[test]
fn the_rewrite_refuses_what_it_cannot_make_regional_and_writes_nothing() {
    let dir = scratch("regionalize-refuses");
    let first = format!("Resources.{}.Properties", function_ids()[0]);
    let code_uri = format!("{first}.CodeUri");
    // What a case does to the packaged template.
    type Change = fn(&mut Value);
    let cases: [(&str, Change, &str); 9] = [
        (
            "a function sam package did not upload",
            |t| _ = first_function(t).insert("CodeUri".into(), json!("SyncWatcherFunction")),
            &code_uri,
        ),
        (
            "a function in another bucket",
            |t| {
                _ = first_function(t)
                    .insert("CodeUri".into(), json!("s3://elsewhere/gitsync-guard/x"))
            },
            &code_uri,
        ),
        (
            "a {Bucket, Key} in another bucket",
            |t| {
                _ = first_function(t)
                    .insert("CodeUri".into(), json!({"Bucket": "elsewhere", "Key": "k"}))
            },
            &code_uri,
        ),
        (
            "an object version",
            |t| {
                let uri = format!("s3://{PREFIX}-us-east-1/k?versionId=3");
                first_function(t).insert("CodeUri".into(), json!(uri));
            },
            "object version",
        ),
        (
            "an image function",
            |t| {
                let properties = first_function(t);
                properties.remove("CodeUri");
                properties.insert("PackageType".into(), json!("Image"));
                properties.insert(
                    "ImageUri".into(),
                    json!("1.dkr.ecr.us-east-1.amazonaws.com/x:1"),
                );
            },
            "image function",
        ),
        (
            "a function without code",
            |t| _ = first_function(t).remove("CodeUri"),
            &format!("{first} has no CodeUri"),
        ),
        (
            "the first bucket elsewhere in the template",
            |t| {
                let uri = format!("s3://{PREFIX}-us-east-1/gitsync-guard/readme");
                t["Outputs"]["Code"] = json!({"Value": uri});
            },
            "template.Outputs.Code.Value",
        ),
        (
            "a Lambda function in another bucket",
            |t| {
                t["Resources"]["PlainFunction"] = json!({
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Code": {"S3Bucket": "elsewhere", "S3Key": "k"}},
                })
            },
            "Resources.PlainFunction.Properties.Code",
        ),
        (
            "no function at all",
            |t| {
                let resources = t["Resources"].as_object_mut().expect("resources");
                resources.retain(|_, r| r["Type"] != "AWS::Serverless::Function");
            },
            "nothing to make regional",
        ),
    ];
    for (case, change, named) in cases {
        let (mut template, _) = packaged();
        change(&mut template);
        let (result, output) = regionalize(&dir, &template, PREFIX);
        let stderr = text(&result.stderr);
        assert!(!result.status.success(), "{case}: accepted");
        assert!(stderr.contains(named), "{case}: {named:?} not in {stderr}");
        assert!(!output.exists(), "{case}: wrote an output");
        assert!(result.stdout.is_empty(), "{case}: printed keys");
    }
    for prefix in ["Gsg", "gsg.example", "gsg-${AWS::AccountId}", ""] {
        let (template, _) = packaged();
        let (result, output) = regionalize(&dir, &template, prefix);
        assert!(!result.status.success(), "prefix {prefix:?} accepted");
        assert!(text(&result.stderr).contains("bucket prefix"), "{prefix:?}");
        assert!(!output.exists(), "prefix {prefix:?}: wrote an output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What `sam build` leaves for `sam package`: template.yaml with each function's CodeUri its
/// own folder, holding a `bootstrap` and a file named after the function (zip entry names are
/// stored uncompressed, so the test can tell each function's zip apart). The CodeUri lines are
/// inserted in template.yaml's text, which stays as it is otherwise.
fn fake_build(dir: &Path) -> PathBuf {
    let mut text =
        std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    for id in function_ids() {
        let folder = dir.join(&id);
        std::fs::create_dir_all(&folder).expect("function folder");
        std::fs::write(folder.join("bootstrap"), format!("#!/bin/sh\necho {id}\n"))
            .expect("bootstrap");
        std::fs::write(folder.join(format!("marker-{id}")), "").expect("marker");
        let start = text
            .find(&format!("\n  {id}:\n    Type: AWS::Serverless::Function\n"))
            .unwrap_or_else(|| panic!("{id} in template.yaml"));
        let properties = "\n    Properties:\n";
        let at = start
            + text[start..]
                .find(properties)
                .unwrap_or_else(|| panic!("{id}'s Properties"))
            + properties.len();
        text.insert_str(at, &format!("      CodeUri: {id}\n"));
    }
    let path = dir.join("template.yaml");
    std::fs::write(&path, text).expect("write the built template");
    path
}

/// The AWS CLI (and SAM) on moto only: dummy credentials, no profile.
fn on_moto<'a>(command: &'a mut Command, moto: &Moto) -> &'a mut Command {
    command
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent/gitsync-guard/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/gitsync-guard/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SAM_CLI_TELEMETRY", "0")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
}

fn aws(moto: &Moto, args: &[&str]) -> Output {
    let result = run(on_moto(&mut tool("aws"), moto).args(args));
    assert!(
        result.status.success(),
        "aws {args:?}: {}",
        text(&result.stderr)
    );
    result
}

/// A code bucket as the README creates one.
fn make_bucket(moto: &Moto, name: &str, region: &str) {
    aws(
        moto,
        &["s3", "mb", &format!("s3://{name}"), "--region", region],
    );
}

fn package(moto: &Moto, prefix: &str, regions: &str, built: &Path) -> Output {
    run(on_moto(
        &mut Command::new(workspace_root().join("org/package.sh")),
        moto,
    )
    .args([
        "--bucket-prefix",
        prefix,
        "--regions",
        regions,
        "--version",
        VERSION,
    ])
    .arg("--built-template")
    .arg(built))
}

/// Every object of a bucket, as (key, bytes), by downloading it.
fn objects(moto: &Moto, bucket: &str, region: &str, into: &Path) -> Vec<(String, Vec<u8>)> {
    let _ = std::fs::remove_dir_all(into);
    aws(
        moto,
        &[
            "s3",
            "sync",
            &format!("s3://{bucket}"),
            &into.to_string_lossy(),
            "--region",
            region,
        ],
    );
    let mut found = Vec::new();
    let mut pending = vec![into.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let key = path
                    .strip_prefix(into)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                found.push((key, std::fs::read(&path).expect("object")));
            }
        }
    }
    found.sort();
    found
}

/// Drops what `sam package` adds to every resource (Metadata.SamResourceId) and each
/// function's CodeUri, to compare the rest.
fn without_code_and_resource_ids(template: &Value) -> Value {
    let mut template = template.clone();
    for (_, resource) in template["Resources"].as_object_mut().expect("resources") {
        if let Some(metadata) = resource.get_mut("Metadata").and_then(Value::as_object_mut) {
            metadata.remove("SamResourceId");
            if metadata.is_empty() {
                resource
                    .as_object_mut()
                    .expect("resource")
                    .remove("Metadata");
            }
        }
        if resource["Type"] == "AWS::Serverless::Function" {
            resource["Properties"]
                .as_object_mut()
                .expect("properties")
                .remove("CodeUri");
        }
    }
    template
}

#[test]
fn package_puts_each_functions_code_in_every_regions_bucket_and_uploads_the_template() {
    let dir = scratch("org-package");
    let moto = Moto::start(&dir);
    let built = fake_build(&dir.join("build"));
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    for region in regions {
        make_bucket(&moto, &format!("{PREFIX}-{region}"), region);
    }

    let result = package(&moto, PREFIX, &regions.join(","), &built);
    let stderr = text(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let template_key = format!("gitsync-guard/{VERSION}/packaged.json");
    assert_eq!(
        text(&result.stdout),
        format!("https://{PREFIX}-us-east-1.s3.us-east-1.amazonaws.com/{template_key}\n"),
        "only the TemplateURL on stdout"
    );

    let mut copies = Vec::new();
    for region in regions {
        let bucket = format!("{PREFIX}-{region}");
        copies.push(objects(
            &moto,
            &bucket,
            region,
            &dir.join("download").join(region),
        ));
    }
    let uploaded = copies[0]
        .iter()
        .find(|(key, _)| *key == template_key)
        .map(|(_, bytes)| serde_json::from_slice::<Value>(bytes).expect("the template is JSON"))
        .expect("the template in the first region's bucket");

    // Each function: the regional bucket, a key of this version holding its own code, the
    // same bytes in every region.
    let mut keys = Vec::new();
    for id in function_ids() {
        let code = &uploaded["Resources"][&id]["Properties"]["CodeUri"];
        let key = code["Key"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: {code}"));
        assert_eq!(code, &regional_code(key), "{id}");
        assert!(
            key.starts_with(&format!("gitsync-guard/{VERSION}/")),
            "{id}: {key}"
        );
        let zip = copies[0]
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, b)| b.clone());
        let zip = zip.unwrap_or_else(|| panic!("{id}: {key} is not in the first bucket"));
        for other in function_ids() {
            let marker = format!("marker-{other}");
            let holds = zip.windows(marker.len()).any(|w| w == marker.as_bytes());
            assert_eq!(holds, other == id, "{id}'s key {key} and {marker}");
        }
        for (region, objects) in regions.iter().zip(&copies) {
            let copy = objects.iter().find(|(k, _)| k == key).map(|(_, b)| b);
            assert_eq!(copy, Some(&zip), "{id}: {key} in {region}");
        }
        keys.push(key.to_owned());
    }
    // The other regions hold the code and nothing else.
    keys.sort();
    for (region, objects) in regions.iter().zip(&copies).skip(1) {
        let held: Vec<&String> = objects.iter().map(|(key, _)| key).collect();
        assert_eq!(held, keys.iter().collect::<Vec<_>>(), "{region}");
    }

    // Nothing else changed between the built template and the uploaded one.
    let source: Yaml =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&built).expect("built")).expect("YAML");
    assert_eq!(
        without_code_and_resource_ids(&uploaded),
        without_code_and_resource_ids(&long_form(&source))
    );

    // CloudFormation's SAM transform takes the regional code location (cfn-lint runs it).
    let lint_file = dir.join("uploaded.json");
    std::fs::write(&lint_file, uploaded.to_string()).expect("write");
    let lint = run(tool("cfn-lint").arg(&lint_file));
    assert!(
        lint.status.success(),
        "{}{}",
        text(&lint.stdout),
        text(&lint.stderr)
    );
    drop(moto);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn package_names_a_missing_or_misplaced_bucket_and_uploads_nothing() {
    let dir = scratch("org-package-missing");
    let moto = Moto::start(&dir);
    let built = fake_build(&dir.join("build"));
    make_bucket(&moto, &format!("{PREFIX}-us-east-1"), "us-east-1");
    make_bucket(&moto, &format!("{PREFIX}-eu-west-1"), "eu-west-1");
    // Named for eu-north-1, created in eu-central-1: Lambda in eu-north-1 could not read it.
    make_bucket(&moto, &format!("{PREFIX}-eu-north-1"), "eu-central-1");

    for (regions, named) in [
        (
            "us-east-1,eu-west-1,sa-east-1",
            format!("{PREFIX}-sa-east-1"),
        ),
        (
            "us-east-1,eu-north-1",
            format!("{PREFIX}-eu-north-1 is in eu-central-1"),
        ),
    ] {
        let result = package(&moto, PREFIX, regions, &built);
        let stderr = text(&result.stderr);
        assert!(!result.status.success(), "{regions}: {stderr}");
        assert!(
            stderr.contains(&named),
            "{regions}: {named:?} not in {stderr}"
        );
        assert!(
            result.stdout.is_empty(),
            "{regions}: {}",
            text(&result.stdout)
        );
    }
    for (bucket, region) in [("us-east-1", "us-east-1"), ("eu-west-1", "eu-west-1")] {
        let listed = aws(
            &moto,
            &[
                "s3",
                "ls",
                "--recursive",
                &format!("s3://{PREFIX}-{bucket}"),
                "--region",
                region,
            ],
        );
        assert!(
            listed.stdout.is_empty(),
            "{bucket}: {}",
            text(&listed.stdout)
        );
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&dir);
}
