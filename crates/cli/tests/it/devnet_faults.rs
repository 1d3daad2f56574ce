//! Issue 16, "a devnet that survives its own faults": a child that dies is started again and
//! the devnet says so; a second devnet on a directory in use is refused, naming the devnet
//! that uses it; `kill -9` of the devnet leaves none of its children running; and the
//! directory it left behind is reused by the next devnet, which runs a task to the end.

use std::path::Path;

use super::user_devnet::{dirs, profile_path, spawn_devnet, wait_until};

/// The pid in a `.pid` file the devnet writes beside each child's log.
fn pid_in(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a process that has not exited (a zombie has exited; only its entry is
/// left until whoever adopted it reaps it).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn the_devnet_restarts_a_dead_child_refuses_a_busy_dir_and_leaves_no_orphan_after_kill_9() {
    let _serial = crate::network_lock();
    let (dir, home) = dirs("devnet-faults");
    let (mut devnet, stderr) = spawn_devnet(&dir, &home, 1, &[]);
    let profile = profile_path(&home);
    wait_until("the devnet's profile", 1800, || {
        assert!(
            devnet.try_wait().unwrap().is_none(),
            "devnet exited: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        profile.exists()
    });
    let node_pid_file = dir.join("node-1/node.pid");
    let coordinator = pid_in(&dir.join("coordinator/coordinator.pid")).unwrap();
    let node = pid_in(&node_pid_file).unwrap();
    assert!(running(coordinator) && running(node));

    // A child killed behind the devnet's back is started again, and the devnet says so.
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &node.to_string()])
            .status()
            .unwrap()
            .success()
    );
    wait_until("node-1 to be started again", 300, || {
        pid_in(&node_pid_file).is_some_and(|p| p != node && running(p))
    });
    let restarted = pid_in(&node_pid_file).unwrap();
    wait_until("the devnet to report the restart", 100, || {
        std::fs::read_to_string(&stderr)
            .unwrap_or_default()
            .contains("restarted (1 of 3)")
    });

    // A second devnet on the same directory is refused with the true reason.
    let (_, home2) = dirs("devnet-faults-second");
    let (mut second, second_err) = spawn_devnet(&dir, &home2, 1, &[]);
    let status = second.wait().unwrap();
    assert!(!status.success());
    let text = std::fs::read_to_string(&second_err).unwrap();
    assert!(
        text.contains(&format!(
            "is in use by the devnet running as process {}",
            devnet.id()
        )),
        "{text}"
    );

    // kill -9 of the devnet: its children go with it.
    devnet.kill().unwrap();
    devnet.wait().unwrap();
    wait_until("the devnet's children to exit", 100, || {
        !running(coordinator) && !running(restarted)
    });

    // The directory it left behind (with its databases of the dead chain) is reused, and the
    // new devnet runs a task to the end (two nodes, so that an audit drawn on the optimistic
    // task has a committee: the node that ran it does not sit on it).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "devnet",
            "--once",
            "--nodes",
            "2",
            "--tasks",
            "1",
            "--modes",
            "optimistic",
            "--challenge-window",
            "2",
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
        .arg("--dir")
        .arg(&dir)
        .env("HOME", &home)
        .env_remove("VERITY_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("reusing"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .expect("the workload report"),
    )
    .unwrap();
    assert_eq!(report["modes"][0]["finalized"], 1, "{report}");
    assert_eq!(report["restarts"].as_array().unwrap().len(), 0, "{report}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    let _ = std::fs::remove_dir_all(home2.parent().unwrap());
}
