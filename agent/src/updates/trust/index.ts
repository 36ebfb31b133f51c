export { AgentTrust, TRUST_STORE_KEY, type TrustChange } from './agent-trust';
export { trustedKeyFromPem } from './first-key';
