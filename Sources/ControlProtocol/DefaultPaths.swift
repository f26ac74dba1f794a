/// Where the data directory and the control socket are when not given: shared by the
/// daemon and the client so that both find the same socket (DESIGN.md section 1).
public enum DefaultPaths {
    /// `explicit` (from `--data-dir`), else `$P2P_SYNC_HOME`, else `~/.local/share/p2p-sync`;
    /// nil when none can be found (no HOME).
    public static func dataDirectory(explicit: String?, environment: [String: String]) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let home = environment["P2P_SYNC_HOME"], !home.isEmpty { return home }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/share/p2p-sync" }
        return nil
    }

    public static func controlSocket(inDataDirectory dir: String) -> String { dir + "/control.sock" }
}
