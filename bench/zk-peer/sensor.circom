pragma circom 2.0.0;

// The benchmark peer of crates/zk: the same sensor-aggregate statement written in circom with
// circomlib's templates (EdDSAPoseidonVerifier, Poseidon, comparators, Num2Bits), so that the
// arkworks circuit is compared with what a circom developer would write.
//
// Statement (crates/zk/README.md): N slots, each with a reading (value, timestamp) signed with
// EdDSA-Poseidon by a device whose key Poseidon(Ax, Ay) is a leaf of a Poseidon Merkle tree
// (depth `depth`, root `root`); readings outside the time window or the value range are
// excluded; count, sum, min and max are over exactly the accepted readings.
// Public inputs: inputDigest = Poseidon(root, windowStart, windowEnd, rangeMin, rangeMax),
// resultDigest = Poseidon(count, sum, min, max), binding (task and operator).

include "node_modules/circomlib/circuits/eddsaposeidon.circom";
include "node_modules/circomlib/circuits/poseidon.circom";
include "node_modules/circomlib/circuits/comparators.circom";
include "node_modules/circomlib/circuits/bitify.circom";

// Enforces (when enabled = 1) that Poseidon(Ax, Ay) is a leaf of the tree with root `root`;
// pathIndex[i] = 1 when the node at level i is a right child.
template RegistryMember(depth) {
    signal input enabled;
    signal input Ax;
    signal input Ay;
    signal input root;
    signal input pathIndex[depth];
    signal input siblings[depth];

    component leaf = Poseidon(2);
    leaf.inputs[0] <== Ax;
    leaf.inputs[1] <== Ay;

    component node[depth];
    signal cur[depth + 1];
    signal delta[depth];
    cur[0] <== leaf.out;
    for (var i = 0; i < depth; i++) {
        pathIndex[i] * (pathIndex[i] - 1) === 0;
        delta[i] <== pathIndex[i] * (siblings[i] - cur[i]);
        node[i] = Poseidon(2);
        node[i].inputs[0] <== cur[i] + delta[i];
        node[i].inputs[1] <== siblings[i] - delta[i];
        cur[i + 1] <== node[i].out;
    }

    component eq = ForceEqualIfEnabled();
    eq.enabled <== enabled;
    eq.in[0] <== cur[depth];
    eq.in[1] <== root;
}

// Enforces that x < 2^32.
template Word() {
    signal input in;
    component bits = Num2Bits(32);
    bits.in <== in;
}

template SensorAggregate(N, depth) {
    signal input inputDigest;
    signal input resultDigest;
    signal input binding;

    signal input root;
    signal input windowStart;
    signal input windowEnd;
    signal input rangeMin;
    signal input rangeMax;
    signal input min;
    signal input max;

    signal input present[N];
    signal input value[N];
    signal input timestamp[N];
    signal input Ax[N];
    signal input Ay[N];
    signal input S[N];
    signal input R8x[N];
    signal input R8y[N];
    signal input pathIndex[N][depth];
    signal input siblings[N][depth];
    signal input selMin[N];
    signal input selMax[N];

    // The binding enters a constraint of its own.
    signal bindingSquare <== binding * binding;

    component bound[4];
    for (var j = 0; j < 4; j++) bound[j] = Word();
    bound[0].in <== windowStart;
    bound[1].in <== windowEnd;
    bound[2].in <== rangeMin;
    bound[3].in <== rangeMax;
    component query = Poseidon(5);
    query.inputs[0] <== root;
    query.inputs[1] <== windowStart;
    query.inputs[2] <== windowEnd;
    query.inputs[3] <== rangeMin;
    query.inputs[4] <== rangeMax;
    query.out === inputDigest;

    component valueWord[N];
    component timeWord[N];
    component sig[N];
    component member[N];
    component geMin[N];
    component leMax[N];
    component geStart[N];
    component leEnd[N];
    component aboveMinWord[N];
    component belowMaxWord[N];
    signal inRange[N];
    signal inWindow[N];
    signal presentInRange[N];
    signal accepted[N];
    signal acceptedValue[N];
    signal aboveMin[N];
    signal belowMax[N];

    var count = 0;
    var sum = 0;
    var selMinTotal = 0;
    var selMaxTotal = 0;
    for (var i = 0; i < N; i++) {
        present[i] * (present[i] - 1) === 0;
        valueWord[i] = Word();
        valueWord[i].in <== value[i];
        timeWord[i] = Word();
        timeWord[i].in <== timestamp[i];

        sig[i] = EdDSAPoseidonVerifier();
        sig[i].enabled <== present[i];
        sig[i].Ax <== Ax[i];
        sig[i].Ay <== Ay[i];
        sig[i].S <== S[i];
        sig[i].R8x <== R8x[i];
        sig[i].R8y <== R8y[i];
        sig[i].M <== value[i] + timestamp[i] * 4294967296;

        member[i] = RegistryMember(depth);
        member[i].enabled <== present[i];
        member[i].Ax <== Ax[i];
        member[i].Ay <== Ay[i];
        member[i].root <== root;
        for (var l = 0; l < depth; l++) {
            member[i].pathIndex[l] <== pathIndex[i][l];
            member[i].siblings[l] <== siblings[i][l];
        }

        geMin[i] = GreaterEqThan(32);
        geMin[i].in[0] <== value[i];
        geMin[i].in[1] <== rangeMin;
        leMax[i] = GreaterEqThan(32);
        leMax[i].in[0] <== rangeMax;
        leMax[i].in[1] <== value[i];
        geStart[i] = GreaterEqThan(32);
        geStart[i].in[0] <== timestamp[i];
        geStart[i].in[1] <== windowStart;
        leEnd[i] = GreaterEqThan(32);
        leEnd[i].in[0] <== windowEnd;
        leEnd[i].in[1] <== timestamp[i];
        inRange[i] <== geMin[i].out * leMax[i].out;
        inWindow[i] <== geStart[i].out * leEnd[i].out;
        presentInRange[i] <== present[i] * inRange[i];
        accepted[i] <== presentInRange[i] * inWindow[i];
        acceptedValue[i] <== accepted[i] * value[i];
        count += accepted[i];
        sum += acceptedValue[i];

        // Every accepted value lies in [min, max] ...
        aboveMin[i] <== accepted[i] * (value[i] - min);
        aboveMinWord[i] = Word();
        aboveMinWord[i].in <== aboveMin[i];
        belowMax[i] <== accepted[i] * (max - value[i]);
        belowMaxWord[i] = Word();
        belowMaxWord[i].in <== belowMax[i];
        // ... and min and max are each attained by one selected accepted reading.
        selMin[i] * (selMin[i] - 1) === 0;
        selMin[i] * (1 - accepted[i]) === 0;
        selMin[i] * (value[i] - min) === 0;
        selMax[i] * (selMax[i] - 1) === 0;
        selMax[i] * (1 - accepted[i]) === 0;
        selMax[i] * (value[i] - max) === 0;
        selMinTotal += selMin[i];
        selMaxTotal += selMax[i];
    }

    // With no accepted reading, min = max = 0 and nothing is selected.
    component none = IsZero();
    none.in <== count;
    selMinTotal === 1 - none.out;
    selMaxTotal === 1 - none.out;
    min * none.out === 0;
    max * none.out === 0;

    component result = Poseidon(4);
    result.inputs[0] <== count;
    result.inputs[1] <== sum;
    result.inputs[2] <== min;
    result.inputs[3] <== max;
    result.out === resultDigest;
}
