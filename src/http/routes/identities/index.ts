import type { App } from '../../types.js';
import addAlias from './add-alias.js';
import createIdentity from './create-identity.js';
import deleteIdentity from './delete-identity.js';
import generateClaimCode from './generate-claim-code.js';
import linkIdentity from './link-identity.js';
import listIdentities from './list-identities.js';
import lookupIdentity from './lookup-identity.js';
import moveIdentity from './move-identity.js';
import redeemClaim from './redeem-claim.js';
import removeAlias from './remove-alias.js';
import updateIdentity from './update-identity.js';

export default async function identityRoutes(app: App) {
  for (const register of [
    lookupIdentity,
    listIdentities,
    createIdentity,
    updateIdentity,
    deleteIdentity,
    generateClaimCode,
    redeemClaim,
    linkIdentity,
    addAlias,
    removeAlias,
    moveIdentity,
  ]) {
    register(app);
  }
}
