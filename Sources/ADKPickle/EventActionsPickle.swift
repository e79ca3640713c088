import SessionModel

/// Reads and writes the pickled `EventActions` that ADK's schema-v0 `events.actions` column holds.
/// (Being implemented: see Tests/ADKPickleTests.)
public enum EventActionsPickle {}
