export { failoverTarget, rendezvousScore } from './rendezvous';
export { zoneInputs } from './zone-inputs';
