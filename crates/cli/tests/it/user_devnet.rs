//! A `verity devnet` that stays up, run the way a user runs it, and the `verity` commands a
//! user types against it: with nothing in the environment but `HOME`, so everything they need
//! comes from the profile the devnet writes under `$HOME/.config/verity/profiles`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

/// A running devnet, stopped (SIGKILL) when dropped.
pub(crate) struct UserDevnet {
    pub(crate) child: Child,
    /// Its `--dir`.
    pub(crate) dir: PathBuf,
    /// The `HOME` it and the commands run with.
    pub(crate) home: PathBuf,
    /// Its stderr.
    pub(crate) stderr: PathBuf,
}

impl Drop for UserDevnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms, at most `tries` times; panics naming `what` after that.
pub(crate) fn wait_until(what: &str, tries: u32, mut check: impl FnMut() -> bool) {
    for _ in 0..tries {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// Fresh, empty directories for a test named `name`.
pub(crate) fn dirs(name: &str) -> (PathBuf, PathBuf) {
    let base = std::env::temp_dir().join(format!("verity-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dir, home) = (base.join("net"), base.join("home"));
    std::fs::create_dir_all(&home).unwrap();
    (dir, home)
}

/// Starts `verity devnet` with `nodes` nodes (plus `extra` flags) in `dir` with `HOME=home` and
/// nothing else of the caller's environment that names a profile.
pub(crate) fn spawn_devnet(
    dir: &Path,
    home: &Path,
    nodes: u32,
    extra: &[&str],
) -> (Child, PathBuf) {
    let stderr = home.join(format!(
        "devnet-{}.stderr",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let child = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "devnet",
            "--nodes",
            &nodes.to_string(),
            "--tasks",
            "0",
            "--port",
            "0",
            "--coordinator-port",
            "0",
            "--gateway-port",
            "0",
            "--log",
            "warn",
            "--json",
        ])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .env("HOME", home)
        .env_remove("VERITY_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("VERITY_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("spawn verity devnet");
    (child, stderr)
}

/// The body of `GET base+path` (HTTP/1.0 over a plain socket), if it answered 200.
pub(crate) fn http_get(base: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let authority = base.strip_prefix("http://")?.trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(authority).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.0 200").then(|| body.to_string()))
}

/// The devnet profile's path under `home`.
pub(crate) fn profile_path(home: &Path) -> PathBuf {
    home.join(".config/verity/profiles/devnet.toml")
}

impl UserDevnet {
    /// A one-node devnet, up once its profile is written (every node registered and staked)
    /// and the coordinator lists the node as live.
    pub(crate) fn start(name: &str) -> Self {
        Self::start_with_nodes(name, 1)
    }

    /// As [`UserDevnet::start`] with `nodes` nodes.
    pub(crate) fn start_with_nodes(name: &str, nodes: u32) -> Self {
        let (dir, home) = dirs(name);
        let (child, stderr) = spawn_devnet(&dir, &home, nodes, &[]);
        let mut net = Self {
            child,
            dir,
            home,
            stderr,
        };
        net.wait_for_profile();
        let coordinator = net.profile()["coordinator_url"]
            .as_str()
            .unwrap()
            .to_string();
        wait_until("the coordinator to list the node as live", 600, || {
            let Some(body) = http_get(&coordinator, "/v1/nodes") else {
                return false;
            };
            serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| {
                v["items"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|n| n["status"] == "live"))
            })
        });
        net
    }

    fn wait_for_profile(&mut self) {
        let path = profile_path(&self.home);
        let stderr = self.stderr.clone();
        let child = &mut self.child;
        wait_until("the devnet's profile", 1800, || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "devnet exited with {status}: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            path.exists()
        });
    }

    /// The profile the devnet wrote, as TOML turned JSON.
    pub(crate) fn profile(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(profile_path(&self.home)).unwrap();
        serde_json::to_value(text.parse::<toml::Table>().unwrap()).unwrap()
    }

    /// Runs `verity args` with an empty environment but `HOME`.
    pub(crate) fn verity(&self, args: &[&str]) -> Output {
        self.verity_env(args, &[])
    }

    /// [`UserDevnet::verity`] with `env` added.
    pub(crate) fn verity_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(args)
            .env_clear()
            .env("HOME", &self.home)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("run verity")
    }
}

/// stdout of a command that must succeed.
pub(crate) fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// stderr of a command that must fail, with nothing on stdout.
pub(crate) fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected a refusal; stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout on failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}
