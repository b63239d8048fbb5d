/// A number the account must never call (`/api/do_not_call_entries`): the autopilot and callout populations
/// skip it and record the participation as `do_not_call`. Its row and JSON are a contact's (id, msisdn,
/// metadata, timestamps), so it is decoded and rendered by the same code.
public typealias DoNotCallEntry = Contact
