//! Requirement lines of a model's environment: a PEP 508 name with optional extras, version
//! specifiers and markers, and nothing else.
//!
//! Everything else pip and uv accept on a requirement line makes the installer do more than
//! pick a release from the operator's index: a local path or a direct reference (`name @ URL`)
//! points it at files or hosts the model's author chose, and options (`--index-url`,
//! `-e`, `-r`) change where it looks. Those are refused here, at publish and again before an
//! environment is built, so the installer only ever sees names and versions.
//!
//! The grammar is PEP 508's, with `@` (URLs) left out:
//! ```text
//! requirement = name [extras] [specifiers] [";" marker]
//! name        = letter-or-digit [letters, digits, "-", "_", "."]* letter-or-digit
//! extras      = "[" [name ("," name)*] "]"
//! specifiers  = "(" spec ("," spec)* ")" | spec ("," spec)*
//! spec        = ("~=" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "===") version
//! marker      = or-expression of `variable op value` and parenthesised markers
//! ```
//! The Python SDK implements the same rules; `tests/vectors/requirements.json` keeps them alike.

/// The longest requirement line.
pub const MAX_LEN: usize = 512;

const OPERATORS: &[&str] = &["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

const MARKER_VARIABLES: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    // Older spellings that PEP 508 still allows.
    "os.name",
    "sys.platform",
    "platform.version",
    "platform.machine",
    "platform.python_implementation",
    "python_implementation",
];

/// Checks one requirement line; the error says what is wrong, in words a developer can act on.
pub fn check(line: &str) -> Result<(), String> {
    if line.chars().count() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if line.trim().is_empty() {
        return Err("must name a package, such as numpy==2.1, not be empty".into());
    }
    let t = line.trim_start();
    if t.starts_with('-') {
        return Err(
            "must be a package name with optional extras, versions and markers, not an installer option"
                .into(),
        );
    }
    if t.starts_with(['.', '/', '~']) || t.contains("://") || t.contains('\\') {
        return Err(
            "must name a package on the server's index, not a path or a URL: only names with optional extras, versions and markers are installed"
                .into(),
        );
    }
    let mut p = Parser { s: line, at: 0 };
    p.requirement()
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn ws(&mut self) {
        while self.rest().starts_with([' ', '\t']) {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        let near: String = self.rest().chars().take(20).collect();
        Err(if near.is_empty() {
            format!("is not a valid requirement: {what} expected at the end")
        } else {
            format!("is not a valid requirement: {what} expected at {near:?}")
        })
    }

    fn requirement(&mut self) -> Result<(), String> {
        self.ws();
        if self.name().is_none() {
            return self.fail("a package name");
        }
        if self.eat("[") {
            self.ws();
            if !self.rest().starts_with(']') {
                loop {
                    self.ws();
                    if self.name().is_none() {
                        return self.fail("an extra's name");
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
            }
            if !self.eat("]") {
                return self.fail("`]`");
            }
        }
        self.ws();
        if self.rest().starts_with('@') {
            return Err(
                "must not be a direct reference (`name @ URL`): only names with optional extras, versions and markers are installed, from the server's index"
                    .into(),
            );
        }
        if self.eat("(") {
            self.specifiers()?;
            if !self.eat(")") {
                return self.fail("`)`");
            }
        } else if OPERATORS.iter().any(|o| self.rest().starts_with(o)) {
            self.specifiers()?;
        }
        if self.eat(";") {
            self.marker_or()?;
        }
        self.ws();
        if self.at == self.s.len() {
            Ok(())
        } else if self.rest().starts_with('@') {
            self.fail("nothing (direct references `@ URL` are not installed)")
        } else {
            self.fail("a version specifier, `;` and markers, or the end")
        }
    }

    /// A PEP 508 name; the name's text.
    fn name(&mut self) -> Option<&str> {
        let start = self.at;
        let bytes = self.s.as_bytes();
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'-' | b'_' | b'.'))
        {
            end += 1;
        }
        if end == start
            || !bytes[start].is_ascii_alphanumeric()
            || !bytes[end - 1].is_ascii_alphanumeric()
        {
            return None;
        }
        self.at = end;
        Some(&self.s[start..end])
    }

    fn specifiers(&mut self) -> Result<(), String> {
        loop {
            self.ws();
            let Some(op) = OPERATORS.iter().find(|o| self.rest().starts_with(**o)) else {
                return self.fail("a version operator (==, >=, ~=, ...)");
            };
            self.at += op.len();
            self.ws();
            let start = self.at;
            while self.rest().starts_with(|c: char| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '_' | '-')
            }) {
                self.at += 1;
            }
            if self.at == start {
                return self.fail("a version");
            }
            if !self.eat(",") {
                return Ok(());
            }
        }
    }

    fn marker_or(&mut self) -> Result<(), String> {
        self.marker_and()?;
        while self.keyword("or") {
            self.marker_and()?;
        }
        Ok(())
    }

    fn marker_and(&mut self) -> Result<(), String> {
        self.marker_expr()?;
        while self.keyword("and") {
            self.marker_expr()?;
        }
        Ok(())
    }

    fn marker_expr(&mut self) -> Result<(), String> {
        if self.eat("(") {
            self.marker_or()?;
            return if self.eat(")") {
                Ok(())
            } else {
                self.fail("`)`")
            };
        }
        self.marker_value()?;
        self.ws();
        let op = OPERATORS
            .iter()
            .find(|o| self.rest().starts_with(**o))
            .map(|o| o.len());
        match op {
            Some(n) => self.at += n,
            None if self.keyword("in") => {}
            None if self.keyword("not") => {
                if !self.keyword("in") {
                    return self.fail("`in` after `not`");
                }
            }
            None => return self.fail("a marker operator (==, !=, <, in, not in, ...)"),
        }
        self.marker_value()
    }

    /// A keyword followed by a space, a quote or a parenthesis, not a longer word.
    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let followed = self.rest().strip_prefix(word).is_some_and(|after| {
            after
                .chars()
                .next()
                .is_none_or(|c| matches!(c, ' ' | '\t' | '\'' | '"' | '('))
        });
        if followed {
            self.at += word.len();
        }
        followed
    }

    fn marker_value(&mut self) -> Result<(), String> {
        self.ws();
        let r = self.rest();
        if let Some(q) = r.chars().next().filter(|c| *c == '\'' || *c == '"') {
            return match r[1..].find(q) {
                Some(n) => {
                    self.at += n + 2;
                    Ok(())
                }
                None => self.fail("a closing quote"),
            };
        }
        let len = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(r.len());
        if MARKER_VARIABLES.contains(&&r[..len]) {
            self.at += len;
            Ok(())
        } else {
            self.fail("a marker variable (python_version, sys_platform, ...) or a quoted string")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn names_versions_extras_and_markers_pass() {
        for ok in [
            "numpy",
            "scikit-learn==1.9.1",
            "Scikit_Learn[alldeps]>=1.5 ; python_version >= '3.10'",
            "requests [security, socks] (>=2.8.1, ==2.8.*)",
            "torch>=2,<3; sys_platform == \"linux\" and (platform_machine == 'x86_64' or platform_machine == 'aarch64')",
            "pywin32 ; os_name not in 'posix'",
            "x; platform_release == 'é'",
            "a.b_c-d~=1.4.5",
            "name[]",
            "x===weird-1",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn paths_urls_references_and_options_fail() {
        for bad in [
            "evil @ http://127.0.0.1:9/evil.whl",
            "evil@file:///srv/data/runner/bundles/abc",
            "/root/.local/share/feather/runner/bundles/abc",
            "./local-package",
            "../up",
            "~/pkg",
            "git+https://example.org/x.git",
            "https://example.org/x.whl",
            "--index-url http://evil",
            "-e .",
            "-r other.txt",
            "numpy --hash=sha256:00",
            "numpy\n--index-url x",
            "numpy; python_version >= '3' @ http://x",
            "numpy; rm -rf /",
            "numpy; os_name €",
            "numpy; os_name in€",
            "nümpy",
            "-numpy",
            "numpy==",
            "numpy[x",
            "",
        ] {
            assert!(check(bad).is_err(), "{bad:?} passed");
        }
    }
}
