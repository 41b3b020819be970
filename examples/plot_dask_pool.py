"""
======================================
A pool on Dask: scoring where it lives
======================================

A pool too large for one machine's memory can be a ``dask.array.Array``: ``query``
scores it block by block on the workers (the fitted model is scattered once), each block
keeps only its own top ``n_instances``, and the winners are merged with the same total
order (score, then index) as an in-memory query -- so the indices are the same as for the
numpy array. Here dask's own threaded scheduler stands in for a cluster.
"""

# %%
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier

X, y = load_digits(return_X_y=True)
X = X / 16
labeled = np.arange(40)
learner = ActiveLearningClassifier(LogisticRegression(max_iter=200),
                                   query_strategy="margin", random_state=0)
learner.fit(X[labeled], y[labeled])

pool_numpy = X[40:]
pool = da.from_array(pool_numpy, chunks=(400, 64))  # 5 blocks of rows
print(pool)

# %%
# ``query`` takes the dask array as it is. On a cluster, connect a client first::
#
#     #     from skal.dask import limit_tensorflow_threads
#
#     client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
#     limit_tensorflow_threads(client, n_threads=1)  # a Keras model: before any TF work
#     pool = da.from_zarr("pool.zarr")
#
# and the same call scores the blocks on the workers.
idx_dask = learner.query(pool, n_instances=12)

idx_numpy = learner.query(pool_numpy, n_instances=12)
print("dask :", idx_dask)
print("numpy:", idx_numpy)
assert np.array_equal(idx_dask, idx_numpy)  # the same batch, in the same order

fig, axes = plt.subplots(1, 12, figsize=(10, 1.3))
for ax, i in zip(axes, idx_dask, strict=True):
    ax.imshow(pool_numpy[i].reshape(8, 8), cmap="gray_r")
    ax.axis("off")
fig.suptitle("The 12 samples the model is least sure of, scored on the cluster")
plt.show()

# %%
# Campaigns are joblib tasks, so grid searches and learning curves also run on a cluster:
# ``with joblib.parallel_backend("dask"): GridSearchCV(..., n_jobs=-1).fit(X, y)``.
