-- Argo CD health check for elements.cloud-elements.io/HubSpotInstance.
-- In argocd-cm it is resource.customizations.health.elements.cloud-elements.io_HubSpotInstance
-- (hack/argocd/argocd-cm.yaml; see README.md). It reads the kstatus conditions the operator
-- writes: Ready always, Reconciling and Stalled only while True.
local hs = {}

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: the operator makes no calls to Cloud Elements"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local ready = nil
local stalled = nil
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Stalled" then
    stalled = condition
  end
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (stalled.reason or "Stalled") .. ": " .. (stalled.message or "")
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end

-- Ready is False or Unknown and nothing is stalled.
if ready.reason == "Suspended" then
  hs.status = "Suspended"
elseif ready.reason == "InstanceDisabled" then
  -- Disabled at Cloud Elements by a person: it will not heal by itself.
  hs.status = "Degraded"
else
  -- Provisioning, awaiting consent, retrying an unavailable API: all move on
  -- without a change to the manifest.
  hs.status = "Progressing"
end
hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
return hs
