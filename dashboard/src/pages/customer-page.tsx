import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, mergedInto, messageOf } from '../api/api-error.js';
import type { Customer, Identity, Merge, ServiceInfo } from '../api/types.js';
import { AliasDialog } from '../components/alias-dialog.js';
import { AuditHistory } from '../components/audit-history.js';
import { type ActiveCode, ClaimCodePanel } from '../components/claim-code-panel.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { CustomerFormDialog } from '../components/customer-form-dialog.js';
import { EditIdentityDialog } from '../components/edit-identity-dialog.js';
import { EraseCustomerDialog } from '../components/erase-customer-dialog.js';
import { IdentitiesTable, type IdentityActions } from '../components/identities-table.js';
import { LinkIdentityForm } from '../components/link-identity-form.js';
import { LookupBox, type LookupRequest } from '../components/lookup-box.js';
import { MergeDialog } from '../components/merge-dialog.js';
import { MoveIdentityDialog } from '../components/move-identity-dialog.js';
import { ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { saveFile } from '../lib/download.js';
import { setFlash } from '../lib/flash.js';
import { customerLabel, formatTime, shortId } from '../lib/format.js';
import { prettyJson } from '../lib/json.js';
import { Link, navigate } from '../lib/router.js';

/** How often the page asks whether the person has redeemed the code on screen. */
const POLL_MS = 2000;

type Dialog =
  | { kind: 'edit-customer' }
  | { kind: 'delete-customer' }
  | { kind: 'erase' }
  | { kind: 'edit-identity'; identity: Identity }
  | { kind: 'unlink'; identity: Identity }
  | { kind: 'add-alias'; identity: Identity }
  | { kind: 'remove-alias'; identity: Identity; alias: string }
  | { kind: 'move'; identity: Identity }
  | { kind: 'merge' }
  | { kind: 'undo-merge'; merge: Merge };

interface Notice {
  text: string;
  link?: { href: string; label: string };
}

/** How many merged_into hops to follow before giving up (a chain A → B → C is two). */
const MAX_MERGE_HOPS = 5;

export function CustomerPage({ customerId, mergedFrom }: { customerId: string; mergedFrom?: string | null }) {
  const api = useApi();
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [identities, setIdentities] = useState<Identity[] | null>(null);
  const [info, setInfo] = useState<ServiceInfo | null>(null);
  const [loadError, setLoadError] = useState<{ status: number | null; message: string } | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [code, setCode] = useState<ActiveCode | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [lookup, setLookup] = useState<LookupRequest | null>(null);
  const [history, setHistory] = useState(0);
  const [merges, setMerges] = useState<Merge[]>([]);
  const [notice, setNotice] = useState<Notice | null>(
    mergedFrom
      ? {
          text: `Customer ${shortId(mergedFrom)}… was merged into this one: its page leads here now. The merge can be undone from the history below.`,
        }
      : null,
  );
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const changed = () => setHistory((n) => n + 1);

  useEffect(() => {
    let current = true;
    Promise.all([api.getCustomer(customerId), api.listIdentities(customerId)]).then(
      ([c, list]) => {
        if (!current) return;
        setCustomer(c);
        setIdentities(list);
        document.title = `${customerLabel(c)} · Identity service`;
        headingRef.current?.focus();
      },
      (caught: unknown) => {
        if (!current) return;
        // A merged customer's page is its target's: follow merged_into, saying where we came from.
        const target = mergedInto(caught);
        const hops = Number(new URLSearchParams(location.search).get('hops') ?? '0');
        if (target && target !== customerId && hops < MAX_MERGE_HOPS) {
          const from = mergedFrom ?? customerId;
          navigate(`/customers/${target}?merged_from=${encodeURIComponent(from)}&hops=${hops + 1}`, { replace: true });
          return;
        }
        setLoadError({ status: caught instanceof ApiError ? caught.status : null, message: messageOf(caught) });
      },
    );
    // The bot's username for the Telegram deep link; the page works without it.
    api.serviceInfo().then(
      (result) => current && setInfo(result),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, customerId]);

  // Merges into or out of this customer, for the Undo buttons in its history; a server without
  // merges has none.
  useEffect(() => {
    let current = true;
    api.listMerges(customerId).then(
      (list) => current && setMerges(list),
      () => current && setMerges([]),
    );
    return () => {
      current = false;
    };
  }, [api, customerId, history]);

  /** After an undo: the identities that went back are gone from here, and the customer may differ. */
  const reload = () =>
    Promise.all([api.getCustomer(customerId), api.listIdentities(customerId)]).then(
      ([c, list]) => {
        setCustomer(c);
        setIdentities(list);
      },
      () => undefined,
    );

  const codeIdentity = code ? identities?.find((identity) => identity.id === code.identity_id) : undefined;
  const waiting = Boolean(code && codeIdentity && !codeIdentity.verified);

  // While a code is on screen, watch for its redemption (by the runtime, through the chat).
  useEffect(() => {
    if (!waiting || !code) return;
    const timer = setInterval(() => {
      if (Date.now() > code.expiresAt) return;
      api.listIdentities(customerId).then(
        (list) => {
          setIdentities(list);
          if (list.find((identity) => identity.id === code.identity_id)?.verified) changed();
        },
        () => undefined,
      );
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [api, customerId, waiting, code]);

  const replace = (identity: Identity) =>
    setIdentities((list) => (list ?? []).map((item) => (item.id === identity.id ? identity : item)));
  /** A dialog's change is done: close it and show the new history. */
  const closeChanged = () => {
    setDialog(null);
    changed();
  };
  const identitySaved = (saved: Identity) => {
    replace(saved);
    closeChanged();
  };

  const generate = async (identity: Identity) => {
    setBusyId(identity.id);
    setRowError(null);
    try {
      const issued = await api.generateClaimCode(customerId, identity.id);
      setCode({ ...issued, expiresAt: Date.now() + issued.expires_in_seconds * 1000 });
      changed();
      requestAnimationFrame(() => document.getElementById('claim-title')?.scrollIntoView({ block: 'nearest' }));
    } catch (caught) {
      setRowError({ id: identity.id, message: messageOf(caught) });
    } finally {
      setBusyId(null);
    }
  };

  const exportData = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const { blob, filename } = await api.exportCustomer(customerId);
      saveFile(blob, filename);
    } catch (caught) {
      setExportError(messageOf(caught));
    } finally {
      setExporting(false);
    }
  };

  const actions: IdentityActions = {
    generateCode: (identity) => void generate(identity),
    edit: (identity) => setDialog({ kind: 'edit-identity', identity }),
    unlink: (identity) => setDialog({ kind: 'unlink', identity }),
    lookUp: (identity) => {
      setLookup({
        channel: identity.channel,
        external_id: identity.external_id,
        instance_id: identity.instance_id,
        nonce: Date.now(),
      });
      document.getElementById('lookup')?.scrollIntoView({ block: 'nearest' });
    },
    addAlias: (identity) => setDialog({ kind: 'add-alias', identity }),
    removeAlias: (identity, alias) => setDialog({ kind: 'remove-alias', identity, alias }),
    move: (identity) => setDialog({ kind: 'move', identity }),
    setVerified: async (identity, verified) => {
      setBusyId(identity.id);
      setRowError(null);
      try {
        replace(await api.updateIdentity(customerId, identity.id, { verified }));
        changed();
      } catch (caught) {
        setRowError({ id: identity.id, message: messageOf(caught) });
      } finally {
        setBusyId(null);
      }
    },
  };

  if (loadError) {
    return (
      <section class="card stack">
        <h1>{loadError.status === 404 ? 'Customer not found' : 'Could not load this customer'}</h1>
        <ErrorNotice>{loadError.message}</ErrorNotice>
        <p>
          <Link href="/">Back to customers</Link>
        </p>
      </section>
    );
  }
  if (!customer || !identities) return <Loading label="Loading customer…" />;

  const identityCount = identities.length;
  return (
    <div class="stack stack--large">
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link href="/">Customers</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page">{customerLabel(customer)}</span>
      </nav>

      <section class="card customer-header" aria-labelledby="customer-heading">
        <div class="customer-header__main">
          <h1 id="customer-heading" ref={headingRef} tabIndex={-1}>
            {customer.name || customer.email}
          </h1>
          <p class="muted">
            {customer.email} · customer since {formatTime(customer.created_at)}
          </p>
          {Object.keys(customer.metadata).length > 0 ? (
            <details class="disclosure disclosure--small">
              <summary>Metadata</summary>
              <pre class="code-block">{prettyJson(customer.metadata)}</pre>
            </details>
          ) : null}
        </div>
        <div class="customer-header__actions">
          <button type="button" class="button" onClick={() => setDialog({ kind: 'edit-customer' })}>
            Edit customer
          </button>
          <button type="button" class="button" onClick={() => setDialog({ kind: 'merge' })}>
            Merge into…
          </button>
          <button type="button" class="button" onClick={() => void exportData()} disabled={exporting}>
            {exporting ? 'Exporting…' : 'Export data'}
          </button>
          <button
            type="button"
            class="button button--danger-ghost"
            onClick={() => setDialog({ kind: 'delete-customer' })}
          >
            Delete customer
          </button>
          <button type="button" class="button button--danger-ghost" onClick={() => setDialog({ kind: 'erase' })}>
            Erase…
          </button>
        </div>
      </section>

      {exportError ? <ErrorNotice>Could not export this customer's data: {exportError}</ErrorNotice> : null}

      {notice ? (
        <p class="notice notice--info" role="status">
          {notice.text}
          {notice.link ? (
            <>
              {' '}
              <Link href={notice.link.href}>{notice.link.label}</Link>
            </>
          ) : null}
        </p>
      ) : null}

      {code ? (
        <ClaimCodePanel
          code={code}
          identity={codeIdentity}
          botUsername={info?.telegram_bot_username ?? null}
          busy={busyId === code.identity_id}
          onRegenerate={() => codeIdentity && void generate(codeIdentity)}
          onClose={() => setCode(null)}
        />
      ) : null}

      <section class="card card--flush" aria-labelledby="identities-heading">
        <div class="card__header">
          <h2 id="identities-heading">Identities</h2>
          <span class="muted">{identityCount === 1 ? '1 linked' : `${identityCount} linked`}</span>
        </div>
        <IdentitiesTable identities={identities} actions={actions} busyId={busyId} rowError={rowError} />
      </section>

      <div class="layout layout--two">
        <section class="card stack" aria-labelledby="link-heading">
          <h2 id="link-heading">Link an identity</h2>
          <LinkIdentityForm
            customerId={customerId}
            onLinked={(identity) => {
              setIdentities((list) => [...(list ?? []), identity]);
              changed();
            }}
          />
        </section>
        <LookupBox request={lookup} />
      </div>

      <AuditHistory
        customerId={customerId}
        version={history}
        merges={merges}
        onUndo={(merge) => setDialog({ kind: 'undo-merge', merge })}
      />
      <p class="small">
        <Link href={`/audit?customer_id=${customerId}`}>This customer in the audit trail</Link>
      </p>

      {dialog?.kind === 'edit-customer' ? (
        <CustomerFormDialog
          customer={customer}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setCustomer(saved);
            closeChanged();
          }}
        />
      ) : null}

      {dialog?.kind === 'delete-customer' ? (
        <ConfirmDialog
          title="Delete this customer?"
          confirmLabel="Delete customer"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.deleteCustomer(customerId);
            setDialog(null);
            navigate('/');
          }}
        >
          <p>
            <strong>{customerLabel(customer)}</strong> ({customer.email}) will be deleted, and with it{' '}
            {identityCount === 0
              ? 'any claim codes issued for them'
              : `${identityCount === 1 ? 'its linked identity' : `all ${identityCount} linked identities`} and their claim codes`}
            . The agents will no longer recognise this person. This cannot be undone.
          </p>
        </ConfirmDialog>
      ) : null}

      {dialog?.kind === 'erase' ? (
        <EraseCustomerDialog
          customer={customer}
          identityCount={identityCount}
          mergedInCount={merges.filter((merge) => merge.target_customer_id === customerId && !merge.undone_at).length}
          onClose={() => setDialog(null)}
          onErased={(erasure) => {
            const count = erasure.identity_ids.length;
            const suppressed = erasure.suppressed
              ? ` ${erasure.suppressed === 1 ? '1 value is' : `${erasure.suppressed} values are`} suppressed.`
              : '';
            setFlash(
              `Customer ${erasure.customer_id} was erased, with ${count} ${count === 1 ? 'identity' : 'identities'}.${suppressed}`,
            );
            setDialog(null);
            navigate('/');
          }}
        />
      ) : null}

      {dialog?.kind === 'edit-identity' ? (
        <EditIdentityDialog identity={dialog.identity} onClose={() => setDialog(null)} onSaved={identitySaved} />
      ) : null}

      {dialog?.kind === 'unlink' ? (
        <ConfirmDialog
          title="Unlink this identity?"
          confirmLabel="Unlink"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const gone = dialog.identity;
            await api.deleteIdentity(customerId, gone.id);
            setIdentities((list) => (list ?? []).filter((item) => item.id !== gone.id));
            if (code?.identity_id === gone.id) setCode(null);
            closeChanged();
          }}
        >
          <p>
            <strong>
              {dialog.identity.channel} {dialog.identity.external_id}
            </strong>{' '}
            will no longer be linked to {customerLabel(customer)}; its claim code, if any, stops working. The agents
            will treat this account as a stranger.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === 'add-alias' ? (
        <AliasDialog identity={dialog.identity} onClose={() => setDialog(null)} onSaved={identitySaved} />
      ) : null}

      {dialog?.kind === 'remove-alias' ? (
        <ConfirmDialog
          title="Remove this alias?"
          confirmLabel="Remove alias"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const { identity, alias } = dialog;
            await api.removeAlias(customerId, identity.id, alias);
            replace({ ...identity, aliases: (identity.aliases ?? []).filter((item) => item !== alias) });
            closeChanged();
          }}
        >
          <p>
            <strong>
              {dialog.identity.channel} {dialog.alias}
            </strong>{' '}
            will no longer lead to {dialog.identity.channel} {dialog.identity.external_id}: the agents will treat a
            message from it as a stranger's.
          </p>
        </ConfirmDialog>
      ) : null}

      {dialog?.kind === 'move' ? (
        <MoveIdentityDialog
          identity={dialog.identity}
          fromLabel={customerLabel(customer)}
          onClose={() => setDialog(null)}
          onMoved={(moved, to) => {
            setIdentities((list) => (list ?? []).filter((item) => item.id !== moved.id));
            if (code?.identity_id === moved.id) setCode(null);
            setDialog(null);
            setNotice({
              text: `Moved ${moved.channel} ${moved.external_id} to ${customerLabel(to)}${moved.verified ? '' : ' (unverified)'}.`,
              link: { href: `/customers/${to.id}`, label: `Open ${customerLabel(to)}` },
            });
            changed();
          }}
        />
      ) : null}

      {dialog?.kind === 'merge' ? (
        <MergeDialog
          source={customer}
          onClose={() => setDialog(null)}
          onMerged={(result) => {
            setDialog(null);
            navigate(`/customers/${result.target.id}?merged_from=${encodeURIComponent(customerId)}`);
          }}
        />
      ) : null}

      {dialog?.kind === 'undo-merge' ? (
        <ConfirmDialog
          title="Undo this merge?"
          confirmLabel="Undo merge"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const undone = await api.undoMerge(dialog.merge.merge_id);
            setDialog(null);
            const count = undone.moved_back_identity_ids.length;
            setNotice({
              text: `${customerLabel(undone.source)} is back, with ${count} ${count === 1 ? 'identity' : 'identities'}.`,
              link: { href: `/customers/${undone.source.id}`, label: `Open ${customerLabel(undone.source)}` },
            });
            void reload();
            changed();
          }}
        >
          <p>
            The customer merged into {customerLabel(customer)} comes back with its own id, email, name and metadata, and
            the identities that came from it and are still here go back to it.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
