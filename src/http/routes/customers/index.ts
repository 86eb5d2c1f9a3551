import type { App } from '../../types.js';
import createCustomer from './create-customer.js';
import deleteCustomer from './delete-customer.js';
import getCustomer from './get-customer.js';
import listCustomers from './list-customers.js';
import mergeCustomer from './merge-customer.js';
import updateCustomer from './update-customer.js';

export default async function customerRoutes(app: App) {
  for (const register of [createCustomer, listCustomers, getCustomer, updateCustomer, deleteCustomer, mergeCustomer])
    register(app);
}
