import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.js';
import { useApi } from './api-context.js';
import { customerLabel, shortId } from './format.js';

/**
 * Names of the customers a page of rows is about (audit events, link requests), fetched once
 * each: at most a page's worth. A deleted or merged-away customer is named as such.
 */
export function useCustomerNames(rows: { customer_id: string | null }[] | null): Map<string, string> {
  const api = useApi();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    const wanted = [...new Set((rows ?? []).map((row) => row.customer_id))].filter(
      (id): id is string => id !== null && !names.has(id),
    );
    if (wanted.length === 0) return;
    let current = true;
    void Promise.all(
      wanted.map((id) =>
        api.getCustomer(id).then(
          (customer) => [id, customerLabel(customer)] as const,
          (caught: unknown) => {
            if (caught instanceof ApiError && caught.status === 404)
              return [id, `Deleted customer ${shortId(id)}`] as const;
            if (caught instanceof ApiError && caught.status === 410)
              return [id, `Merged customer ${shortId(id)}`] as const;
            return null;
          },
        ),
      ),
    ).then((found) => {
      if (!current) return;
      setNames((old) => {
        const next = new Map(old);
        for (const entry of found) if (entry) next.set(entry[0], entry[1]);
        return next;
      });
    });
    return () => {
      current = false;
    };
  }, [api, rows]);
  return names;
}
