-- Argo CD resource actions for elements.cloud-elements.io/HubSpotInstance.
-- reconcile asks the operator for a full check now (see action.lua); it is
-- disabled while spec.suspend is true, when the operator makes no calls.
local actions = {}

local suspended = false
if obj.spec ~= nil and obj.spec.suspend == true then
  suspended = true
end
actions["reconcile"] = {["disabled"] = suspended}

return actions
