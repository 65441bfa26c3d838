//! What a built environment holds, as pins (`name==version`, one per line): what `feather
//! export` writes as a model's `requirements.lock`, and what a server given that file as its
//! constraints installs again.
//!
//! The list comes from `uv pip freeze`, which reads the installed packages' metadata and runs
//! nothing of theirs. It is kept in the environment's folder once asked for. A source build's
//! backend could have written any metadata, so every line is checked like a requirement before
//! it is kept, and the lines of a lock file read back are checked again.

use std::path::Path;
use std::time::Duration;

use super::{EnvBuilder, EnvSpec, clean_env};

/// The file in an environment's folder.
const FILE: &str = "requirements.lock";

/// The SDK is installed into every environment by the server itself, from its own wheel.
const SDK: &str = "feather-sdk";

/// How long `uv pip freeze` may take: it only reads files.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(60);

impl EnvBuilder {
    /// The pins of a ready environment, the SDK left out; none while it is not built.
    pub async fn packages(&self, spec: &EnvSpec) -> Result<Option<Vec<String>>, String> {
        let dir = self.dir(spec);
        if !dir.join("bin/python").exists() {
            return Ok(None);
        }
        if let Ok(text) = std::fs::read_to_string(dir.join(FILE)) {
            return parse(&text).map(Some);
        }
        let pins = self.freeze(&dir).await?;
        // Kept for next time when the folder can be written; the answer stands either way.
        let partial = dir.join(format!(".{FILE}.partial"));
        if std::fs::write(&partial, render(&pins)).is_ok() {
            let _ = std::fs::rename(&partial, dir.join(FILE));
        }
        Ok(Some(pins))
    }

    async fn freeze(&self, env: &Path) -> Result<Vec<String>, String> {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(&self.uv);
        cmd.args([
            "pip",
            "freeze",
            "--no-config",
            "--exclude-editable",
            "--python",
        ])
        .arg(env.join("bin/python"))
        .env_clear()
        .envs(clean_env(scratch.path()))
        .current_dir(scratch.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
        let out = tokio::time::timeout(FREEZE_TIMEOUT, cmd.output())
            .await
            .map_err(|_| "listing the environment's packages took too long".to_owned())?
            .map_err(|e| format!("cannot run uv ({}): {e}", self.uv.display()))?;
        if !out.status.success() {
            return Err(format!(
                "listing the environment's packages failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| is_pin(l) && !is_sdk(l))
            .map(str::to_owned)
            .collect())
    }
}

/// A lock file's text: a comment saying what it is, then one pin per line.
pub fn render(pins: &[String]) -> String {
    let mut text = String::from("# The packages of the environment this model ran in, as pins.\n");
    for p in pins {
        text.push_str(p);
        text.push('\n');
    }
    text
}

/// The pins of a lock file (comments and blank lines skipped); the first line that is not a
/// checked `name==version` requirement is an error naming it.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let mut pins = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split_once('#').map_or(line, |(l, _)| l).trim();
        if line.is_empty() {
            continue;
        }
        if !is_pin(line) {
            return Err(format!(
                "line {} ({line:?}) is not a pin of the form name==version",
                n + 1
            ));
        }
        pins.push(line.to_owned());
    }
    Ok(pins)
}

/// A requirement the builds accept, naming one exact version.
fn is_pin(line: &str) -> bool {
    feather_spec::requirement::check(line).is_ok()
        && line
            .split(';')
            .next()
            .is_some_and(|r| r.contains("==") && !r.contains("==="))
        && !line.contains('*')
}

fn is_sdk(line: &str) -> bool {
    let name = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .next()
        .unwrap_or_default();
    name.to_ascii_lowercase().replace(['_', '.'], "-") == SDK
}

#[cfg(test)]
mod tests {
    use super::{is_sdk, parse, render};

    #[test]
    fn a_lock_reads_back_as_it_was_written() {
        let pins = vec!["numpy==2.3.1".to_owned(), "scikit-learn==1.9.1".to_owned()];
        assert_eq!(parse(&render(&pins)).unwrap(), pins);
        assert_eq!(
            parse("# c\n\nsix==1.17.0  # via x\n").unwrap(),
            vec!["six==1.17.0".to_owned()]
        );
    }

    #[test]
    fn only_exact_pins_of_names_are_read() {
        for bad in [
            "six",
            "six>=1",
            "six==1.*",
            "six===1.0",
            "-e .",
            "--index-url http://x/simple",
            "six @ file:///tmp/six.whl",
            "-r other.txt",
        ] {
            let e = parse(&format!("ok==1.0\n{bad}\n")).unwrap_err();
            assert!(e.starts_with("line 2 "), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sdk_is_known_by_any_spelling() {
        assert!(is_sdk("feather-sdk==0.4.0"));
        assert!(is_sdk("Feather_SDK @ file:///x.whl"));
        assert!(!is_sdk("feather-sdk-extra==1.0"));
    }
}
