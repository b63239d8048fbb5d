/// SCFM's `dependent: :restrict_with_error`: a record others refer to is not deleted; 422 with the message
/// Rails gives.
enum DependentRecords {
    static func exist(_ name: String) -> ValidationErrors {
        ValidationErrors("base", "Cannot delete record because dependent \(name) exist")
    }

    /// Runs the DELETE; a foreign-key violation (a dependent added between the check and the delete) is the
    /// same 422.
    static func delete(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch where error.isForeignKeyViolation {
            throw ValidationErrors("base", "Cannot delete record because dependent records exist")
        }
    }
}
