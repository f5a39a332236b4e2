// A destructive row action asked twice: "Delete" turns into "Delete <name>" and "Keep". The
// page keeps which row is asking (one at a time); `children` are the row's other actions, shown
// while it is not asking.
import type { ComponentChildren } from 'preact';

export function ConfirmAction({
  asking,
  verb,
  name,
  disabled,
  onAsk,
  onKeep,
  onConfirm,
  children,
}: {
  asking: boolean;
  verb: string;
  name: string;
  disabled?: boolean;
  onAsk: () => void;
  onKeep: () => void;
  onConfirm: () => void;
  children?: ComponentChildren;
}) {
  if (asking)
    return (
      <>
        <button type="button" class="danger" disabled={disabled} onClick={onConfirm}>
          {verb} {name}
        </button>
        <button type="button" onClick={onKeep}>
          Keep
        </button>
      </>
    );
  return (
    <>
      {children}
      <button type="button" onClick={onAsk} aria-label={`${verb} ${name}`}>
        {verb}
      </button>
    </>
  );
}
