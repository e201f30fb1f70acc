-- Sets reconcile.fluxcd.io/requestedAt to the current time (RFC 3339, UTC).
-- The operator handles any value it has not yet echoed in
-- status.lastHandledReconcileAt: it runs a full reconcile, including a drift
-- check of the element instance at Cloud Elements, and asks for a fresh
-- consent link while it awaits authorization. This is the annotation
-- `flux reconcile` writes; nothing else on the object changes.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["reconcile.fluxcd.io/requestedAt"] = os.date("!%Y-%m-%dT%XZ")
return obj
