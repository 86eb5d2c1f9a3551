import type { App } from '../../types.js';
import approveLinkRequest from './approve-link-request.js';
import createLinkRequest from './create-link-request.js';
import getLinkRequest from './get-link-request.js';
import listLinkRequests from './list-link-requests.js';
import lookupLinkRequest from './lookup-link-request.js';
import redeemLinkRequest from './redeem-link-request.js';
import rejectLinkRequest from './reject-link-request.js';

export default async function linkRequestRoutes(app: App) {
  for (const register of [
    createLinkRequest,
    listLinkRequests,
    getLinkRequest,
    lookupLinkRequest,
    redeemLinkRequest,
    approveLinkRequest,
    rejectLinkRequest,
  ]) {
    register(app);
  }
}
