/// What a member may do. Admins change the membership (and write), writers write, readers
/// only read; everyone in the group reads.
public enum MemberRole: String, Sendable, CaseIterable, Comparable {
    case reader, writer, admin

    public var canWrite: Bool { self != .reader }

    public static func < (a: MemberRole, b: MemberRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
