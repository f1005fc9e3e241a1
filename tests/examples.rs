//! The shipped examples stay valid: every Kubernetes manifest parses with an
//! apiVersion and kind, and every script in the scripts ConfigMap passes
//! `tokensmith check` (syntax, known functions, header).

mod support;

use std::path::Path;

fn documents(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("\n---\n")
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

#[test]
fn kubernetes_manifests_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            for doc in documents(&path) {
                assert!(doc["apiVersion"].is_string(), "{}: {doc}", path.display());
                kinds.push(doc["kind"].as_str().unwrap().to_owned());
            }
        }
    }
    for kind in [
        "Deployment",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
}

#[test]
fn configmap_scripts_pass_check() {
    let cm =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes/scripts-configmap.yaml");
    let doc = &documents(&cm)[0];
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, body) in doc["data"].as_object().unwrap() {
        let p = dir.path().join(name);
        std::fs::write(&p, body.as_str().unwrap()).unwrap();
        files.push(p);
    }
    assert!(!files.is_empty());
    let out = support::tokensmith()
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
