import ArgumentParser
import ControlProtocol

/// `p2p-syncctl group ...`: private groups (issue 14, docs/GROUPS.md).
struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Make a private group, invite to it, join one.",
        discussion: """
            A group's data is its members': connections from other peers are closed right after the handshake, readers' writes are refused by everyone, and membership changes are signed by an admin. Without a group a node is open (the default): anyone who reaches it reads and writes.
            """,
        subcommands: [GroupCreate.self, GroupInvite.self, GroupJoin.self])
}

struct GroupCreate: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Make a new group with this node as its first admin (this node then refuses non-members).")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .groupCreate }
}

struct GroupInvite: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Print one line a new member gives to `group join` (add its peer ID with `members add` too).")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .groupInvite }
}

struct GroupJoin: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "join", abstract: "Join the group of INVITE: connect to its admin and take the group's membership from it.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The line `group invite` printed (p2p-sync-invite:...).") var invite: String
    var controlCommand: ControlCommand { .groupJoin(invite: invite) }
}

/// `p2p-syncctl members [add|remove]`.
struct Members: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the group's members, or change them (admins only).",
        subcommands: [MembersList.self, MembersAdd.self, MembersRemove.self],
        defaultSubcommand: MembersList.self)
}

struct MembersList: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the members with their roles.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .members }
}

struct MembersAdd: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add PEER_ID to the group with a role, or change its role.",
        discussion: "admin: changes the membership and writes; writer: writes; reader: reads only (its writes are refused by every member).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The member's peer ID (`p2p-syncctl info` on its machine shows it).") var peerID: String
    @Option(help: ArgumentHelp("admin, writer or reader.", valueName: "role")) var role: String = "writer"
    var controlCommand: ControlCommand { .memberSet(peerID: peerID, role: role) }

    func validate() throws {
        guard ["admin", "writer", "reader"].contains(role) else { throw ValidationError("--role is admin, writer or reader, not \"\(role)\"") }
    }
}

struct MembersRemove: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove PEER_ID: every member disconnects it and refuses its later writes (its earlier writes stay).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The member's peer ID.") var peerID: String
    var controlCommand: ControlCommand { .memberRemove(peerID: peerID) }
}

struct Audit: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the audit log (membership changes, refused connections and writes, key changes), or check it.",
        discussion: "The log is <data-dir>/audit.log, one JSON object per line, each chained to the one before by its SHA-256; --verify names any line that was changed or removed (exit 1).")
    @OptionGroup var globals: GlobalOptions
    @Option(help: ArgumentHelp("Only lines at or after this time (RFC 3339, e.g. 2026-12-02T10:00:00Z).", valueName: "time")) var since: String?
    @Flag(help: "Check the chain instead of printing the lines.") var verify = false
    var controlCommand: ControlCommand { .audit(since: since, verify: verify) }
}
