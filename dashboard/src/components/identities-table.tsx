import type { Identity } from '../api/types.js';
import { shortId } from '../lib/format.js';
import { EmptyState } from './status.js';
import { ProofBadge, VerifiedBadge } from './verified-badge.js';

export interface IdentityActions {
  generateCode: (identity: Identity) => void;
  edit: (identity: Identity) => void;
  setVerified: (identity: Identity, verified: boolean) => void;
  lookUp: (identity: Identity) => void;
  unlink: (identity: Identity) => void;
  /** Absent on a server without "Identities that change": no alias or move buttons then. */
  addAlias?: (identity: Identity) => void;
  removeAlias?: (identity: Identity, alias: string) => void;
  move?: (identity: Identity) => void;
}

interface IdentitiesTableProps {
  identities: Identity[];
  actions: IdentityActions;
  /** The identity whose action is running, and an error to show on its row. */
  busyId: string | null;
  rowError: { id: string; message: string } | null;
}

export function IdentitiesTable({ identities, actions, busyId, rowError }: IdentitiesTableProps) {
  if (identities.length === 0) {
    return (
      <EmptyState title="No linked identities yet.">
        Link a Telegram, WhatsApp, Slack or Discord account below, then generate a claim code for the person.
      </EmptyState>
    );
  }
  return (
    <table class="table table--responsive identities">
      <caption class="visually-hidden">Linked identities</caption>
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">External id</th>
          <th scope="col">Display name</th>
          <th scope="col">Instance</th>
          <th scope="col">Role</th>
          <th scope="col">Status</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {identities.map((identity) => {
          const label = `${identity.channel} ${identity.external_id}`;
          const busy = busyId === identity.id;
          return [
            <tr key={identity.id} data-identity-id={identity.id}>
              <td data-label="Channel">
                <span class="channel">{identity.channel}</span>
              </td>
              <td data-label="External id" class="external-id">
                <div class="external-id__main">
                  <code>{identity.external_id}</code>
                  {identity.aliases && identity.aliases.length > 0 ? (
                    <ul class="aliases" aria-label={`Aliases of ${label}`}>
                      {identity.aliases.map((alias) => (
                        <li key={alias} class="alias">
                          <span class="alias__prefix" aria-hidden="true">
                            also
                          </span>
                          <code>{alias}</code>
                          {actions.removeAlias ? (
                            <button
                              type="button"
                              class="alias__remove"
                              onClick={() => actions.removeAlias?.(identity, alias)}
                              aria-label={`Remove alias ${alias} of ${label}`}
                              title="Remove this alias"
                            >
                              ×
                            </button>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                  {actions.addAlias && identity.aliases ? (
                    <button
                      type="button"
                      class="link-button small"
                      onClick={() => actions.addAlias?.(identity)}
                      aria-label={`Add alias to ${label}`}
                    >
                      + Add alias
                    </button>
                  ) : null}
                </div>
              </td>
              <td data-label="Display name">{identity.display_name ?? <span class="muted">—</span>}</td>
              <td data-label="Instance">
                {identity.instance_id ? (
                  <code title={identity.instance_id}>{shortId(identity.instance_id)}</code>
                ) : (
                  <span class="muted">All instances</span>
                )}
              </td>
              <td data-label="Role">
                {identity.role_override ? (
                  <span class="badge badge--role">{identity.role_override}</span>
                ) : (
                  <span class="muted">Channel default</span>
                )}
              </td>
              <td data-label="Status">
                <div class="status-badges">
                  <VerifiedBadge verified={identity.verified} at={identity.verified_at} />
                  {identity.verified ? <ProofBadge via={identity.verified_via} /> : null}
                </div>
              </td>
              <td class="actions">
                <div class="row-actions">
                  {identity.verified ? null : (
                    <button
                      type="button"
                      class="button button--primary button--small"
                      onClick={() => actions.generateCode(identity)}
                      disabled={busy}
                      aria-label={`Generate code for ${label}`}
                    >
                      Generate Code
                    </button>
                  )}
                  <button
                    type="button"
                    class="button button--small"
                    onClick={() => actions.setVerified(identity, !identity.verified)}
                    disabled={busy}
                    aria-label={`${identity.verified ? 'Unverify' : 'Verify'} ${label}`}
                  >
                    {identity.verified ? 'Unverify' : 'Verify'}
                  </button>
                  <button
                    type="button"
                    class="button button--small"
                    onClick={() => actions.edit(identity)}
                    aria-label={`Edit ${label}`}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    class="button button--small"
                    onClick={() => actions.lookUp(identity)}
                    aria-label={`Look up ${label}`}
                  >
                    Look up
                  </button>
                  {actions.move ? (
                    <button
                      type="button"
                      class="button button--small"
                      onClick={() => actions.move?.(identity)}
                      aria-label={`Move ${label} to another customer`}
                    >
                      Move to…
                    </button>
                  ) : null}
                  <button
                    type="button"
                    class="button button--small button--danger-ghost"
                    onClick={() => actions.unlink(identity)}
                    aria-label={`Unlink ${label}`}
                  >
                    Unlink
                  </button>
                </div>
              </td>
            </tr>,
            rowError?.id === identity.id ? (
              <tr key={`${identity.id}-error`} class="row-error">
                <td colSpan={7}>
                  <p class="notice notice--error" role="alert">
                    {label}: {rowError.message}
                  </p>
                </td>
              </tr>
            ) : null,
          ];
        })}
      </tbody>
    </table>
  );
}
