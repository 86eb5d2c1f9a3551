import type { App } from '../../types.js';
import eraseCustomer from './erase-customer.js';
import exportCustomer from './export-customer.js';
import liftSuppression from './lift-suppression.js';
import listSuppressions from './list-suppressions.js';

export default async function privacyRoutes(app: App) {
  for (const register of [exportCustomer, eraseCustomer, listSuppressions, liftSuppression]) register(app);
}
