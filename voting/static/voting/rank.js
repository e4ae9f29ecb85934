// The one ranking rule every screen shows (contract 4): most dots, then most voters; equal on
// both is a tie with the same rank number (1, 1, 3). Where an order is needed among tied
// proposals (a list, the cut line), the earlier proposal comes first, as in the scheduler.

export function byRank(a, b) {
  return (
    (b.dots || 0) - (a.dots || 0) ||
    (b.voters || 0) - (a.voters || 0) ||
    Date.parse(a.created_at) - Date.parse(b.created_at) ||
    a.id - b.id
  );
}

// Sorted proposals -> their rank numbers, in the same order.
export function rankNumbers(sorted) {
  const ranks = [];
  sorted.forEach((p, i) => {
    const prev = sorted[i - 1];
    const tied = prev && (prev.dots || 0) === (p.dots || 0) && (prev.voters || 0) === (p.voters || 0);
    ranks.push(tied ? ranks[i - 1] : i + 1);
  });
  return ranks;
}

// Whether rank r is shared by more than one proposal.
export function isTied(ranks, index) {
  return ranks[index - 1] === ranks[index] || ranks[index + 1] === ranks[index];
}
